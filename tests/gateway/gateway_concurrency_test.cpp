// 64 devices enrolling at the same moment, each on its own connection: every one gets its own certificate, and
// the SQLite store holds every one of them.
#include <doctest/doctest.h>

#include <latch>
#include <set>
#include <thread>

#include "tests/support/gateway_process.h"
#include "tests/support/scep_test_client.h"

TEST_CASE("64 simultaneous enrollments all succeed with distinct serials, all stored") {
  constexpr int kDevices = 64;
  test::GatewayProcess gw;
  scep::UniquePtr<X509> ca;
  {
    test::ScepTestClient probe(gw.port());
    REQUIRE(probe.FetchCa() == "");
    ca = scep::UpRef(probe.ca());
  }
  // A few keys shared by the devices: RSA key generation would dominate the run, and the gateway keys nothing on
  // the public key (transactionIDs and subjects differ).
  std::vector<scep::UniquePtr<EVP_PKEY>> keys;
  for (int i = 0; i < 4; ++i) keys.emplace_back(EVP_RSA_gen(2048));
  std::vector<test::Device> devices;
  std::vector<std::unique_ptr<test::ScepTestClient>> clients;
  for (int i = 0; i < kDevices; ++i) {
    devices.push_back(test::MakeDevice(
        {.subject = {{"CN", "concurrent-" + std::to_string(i)}}, .sans = "DNS:c" + std::to_string(i) + ".example",
         .challenge = "test-challenge"},
        keys[static_cast<std::size_t>(i) % keys.size()].get()));
    REQUIRE(devices.back().error == "");
    clients.push_back(std::make_unique<test::ScepTestClient>(gw.port()));
  }

  std::vector<test::ScepReply> replies(kDevices);
  std::vector<std::string> fetch_errors(kDevices);
  std::latch start(kDevices);
  std::vector<std::thread> threads;
  for (int i = 0; i < kDevices; ++i) {
    threads.emplace_back([&, i] {
      const auto n = static_cast<std::size_t>(i);
      fetch_errors[n] = clients[n]->FetchCa();
      start.arrive_and_wait();  // all PKCSReqs leave together
      if (fetch_errors[n].empty()) replies[n] = clients[n]->Enroll(devices[n]);
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::string> serials;
  for (int i = 0; i < kDevices; ++i) {
    const auto n = static_cast<std::size_t>(i);
    CAPTURE(i);
    INFO(fetch_errors[n] << " " << replies[n].Describe());
    REQUIRE(fetch_errors[n] == "");
    REQUIRE(replies[n].success());
    CHECK(X509_cmp(replies[n].rep->signer_cert(), ca.get()) == 0);
    CHECK(X509_NAME_cmp(X509_get_subject_name(replies[n].cert()),
                        X509_REQ_get_subject_name(devices[n].csr.get())) == 0);
    serials.insert(scep::SerialHex(replies[n].cert()));
  }
  CHECK(serials.size() == kDevices);

  const auto listing = test::ListCerts(gw.data_dir());
  CAPTURE(listing.output);
  CHECK(listing.exit_code == 0);
  CHECK(listing.count == kDevices);
  for (const auto& s : serials) CHECK(listing.Has(s));
}
