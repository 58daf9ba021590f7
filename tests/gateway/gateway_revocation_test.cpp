// The end of a certificate's life and the record of every decision, end to end: revocation through the CLI and the
// API, the CRL at /crl/ca.crl and through GetCRL, renewal refused for a revoked certificate, and the audit file.
#include <doctest/doctest.h>

#include <openssl/x509v3.h>

#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/decision_loop.h"
#include "tests/support/gateway_process.h"
#include "tests/support/issued_cert_checks.h"
#include "tests/support/scep_test_client.h"

using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;
using namespace test::decision;

namespace {

// The revoked entry of `crl` for `cert`'s serial; nullptr if not listed.
X509_REVOKED* RevokedEntry(X509_CRL* crl, X509* cert) {
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(entry), X509_get0_serialNumber(cert)) == 0) return entry;
  }
  return nullptr;
}

// The CRLReason code of an entry; -1 without the extension (reason unspecified).
long ReasonCode(X509_REVOKED* entry) {
  scep::UniquePtr<ASN1_STRING> reason(
      static_cast<ASN1_STRING*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
  return reason ? ASN1_ENUMERATED_get(reason.get()) : -1;
}

}  // namespace

TEST_CASE("revocation: CLI and API, /crl/ca.crl and GetCRL, renewal refused for a revoked certificate") {
  test::TempDir dir;
  std::string out;
  REQUIRE_MESSAGE(AddUser(dir / "data", &out) == 0, out);
  test::GatewayProcess gw({.data_dir = dir / "data"});
  test::ScepTestClient client(gw.port());
  REQUIRE(client.FetchCa() == "");
  std::vector<test::Device> devices;
  std::vector<scep::UniquePtr<X509>> certs;
  for (const char* cn : {"revoked-one", "renewed-one", "api-revoked"}) {
    devices.push_back(Device(cn));
    auto reply = client.Enroll(devices.back());
    test::CheckIssued(reply, devices.back());
    REQUIRE(reply.success());
    certs.push_back(scep::UpRef(reply.cert()));
  }
  X509* revoked = certs[0].get();
  X509* renewed = certs[1].get();
  X509* api_revoked = certs[2].get();

  REQUIRE_MESSAGE(gw.Cli("certs revoke " + scep::SerialHex(revoked) + " --reason keyCompromise", &out) == 0, out);
  auto api = Api(gw.port(), "POST", "/api/v1/certificates/" + scep::SerialHex(api_revoked) + "/revoke",
                 R"({"reason": "cessationOfOperation"})");
  CAPTURE(api.body.dump());
  CHECK(api.status == 200);
  CHECK(Api(gw.port(), "POST", "/api/v1/certificates/" + scep::SerialHex(api_revoked) + "/revoke", "{}").status ==
        409);

  gateway::HttpClient http("127.0.0.1", gw.port());
  auto fetch_crl = [&]() -> scep::UniquePtr<X509_CRL> {
    auto resp = http.Get("/crl/ca.crl");
    if (!resp || resp->status != 200) return nullptr;
    test::WriteText(dir / "ca.crl", resp->body);
    auto crl = scep::CrlFromDer(scep::AsBytes(resp->body));
    return crl ? std::move(*crl) : nullptr;
  };
  auto crl = fetch_crl();
  REQUIRE(crl != nullptr);
  int rc = 0;
  rc = test::Run("openssl crl -inform DER -in '" + (dir / "ca.crl").string() + "' -CAfile '" + gw.ca_pem().string() +
                     "' -noout -verify",
                 &out);
  CAPTURE(out);
  CHECK(rc == 0);
  CHECK(out.find("verify OK") != std::string::npos);
  REQUIRE(RevokedEntry(crl.get(), revoked) != nullptr);
  CHECK(ReasonCode(RevokedEntry(crl.get(), revoked)) == 1);  // keyCompromise
  REQUIRE(RevokedEntry(crl.get(), api_revoked) != nullptr);
  CHECK(ReasonCode(RevokedEntry(crl.get(), api_revoked)) == 5);  // cessationOfOperation
  CHECK(RevokedEntry(crl.get(), renewed) == nullptr);

  // GetCRL (message type 22) returns the same list.
  auto got = client.GetCrl(renewed, devices[1].key.get());
  INFO(got.Describe());
  REQUIRE(got.success());
  REQUIRE(got.crls.size() == 1);
  CHECK(X509_CRL_verify(got.crls[0].get(), X509_get0_pubkey(client.ca())) == 1);
  CHECK(RevokedEntry(got.crls[0].get(), revoked) != nullptr);
  CHECK(RevokedEntry(got.crls[0].get(), renewed) == nullptr);

  // A revoked certificate cannot renew itself.
  auto again = Device("revoked-one", "", "");
  test::CheckFailure(client.Send(again.csr_der, revoked, devices[0].key.get(), {.type = MessageType::RenewalReq}),
               FailInfo::BadRequest, "revoked");
  // A valid one can, and is then revoked as superseded (renewal.revoke_superseded defaults to true).
  auto successor_csr = Device("renewed-one", "", "");
  auto successor = client.Send(successor_csr.csr_der, renewed, devices[1].key.get(), {.type = MessageType::RenewalReq});
  INFO(successor.Describe());
  REQUIRE(successor.success());
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(successor.cert()), successor_csr.key.get()) == 1);
  crl = fetch_crl();
  REQUIRE(crl != nullptr);
  REQUIRE(RevokedEntry(crl.get(), renewed) != nullptr);
  CHECK(ReasonCode(RevokedEntry(crl.get(), renewed)) == 4);  // superseded
  CHECK(RevokedEntry(crl.get(), successor.cert()) == nullptr);
  const auto listing = test::ListCerts(gw.data_dir());
  CAPTURE(listing.output);
  CHECK(listing.count == 4);
  // The superseded certificate cannot renew a second time.
  test::CheckFailure(client.Send(successor_csr.csr_der, renewed, devices[1].key.get(), {.type = MessageType::RenewalReq}),
               FailInfo::BadRequest, "revoked");
}

TEST_CASE("the audit file has one line per decision and survives a restart") {
  test::TempDir dir;
  const std::string yaml = "endpoints:\n  - {name: auto, path: /auto}\n"
                           "  - {name: manual, path: /manual, policy: {approval: manual}}\n";
  std::string before_restart;
  std::string issued_serial, approved_serial, denied_txid, pending_txid, issued_txid;
  {
    test::GatewayProcess gw({.config_yaml = yaml, .data_dir = dir / "data"});
    test::ScepTestClient automatic(gw.port(), "/auto");
    test::ScepTestClient manual(gw.port(), "/manual");
    REQUIRE(automatic.FetchCa() == "");
    REQUIRE(manual.FetchCa() == "");

    auto device = Device("audited");
    auto issued = automatic.Enroll(device);
    test::CheckIssued(issued, device);
    REQUIRE(issued.success());
    issued_serial = scep::SerialHex(issued.cert());
    issued_txid = issued.transaction_id;
    auto denied = automatic.Enroll(Device("audited-wrong", "", "wrong"));
    test::CheckFailure(denied, FailInfo::BadRequest, "challenge password incorrect");
    denied_txid = denied.transaction_id;
    auto held_device = Device("audited-held");
    auto held = manual.Enroll(held_device);
    test::CheckPending(held);
    pending_txid = held.transaction_id;
    std::string out;
    REQUIRE(gw.Cli("requests list --status pending", &out) == 0);
    const std::int64_t id = RequestId(out, pending_txid);
    REQUIRE(id > 0);
    REQUIRE(gw.Cli("requests approve " + std::to_string(id), &out) == 0);
    auto polled = manual.Poll(held_device, pending_txid);
    test::CheckIssued(polled, held_device);
    REQUIRE(polled.success());
    approved_serial = scep::SerialHex(polled.cert());
    REQUIRE(gw.Cli("certs revoke " + issued_serial + " --reason affiliationChanged", &out) == 0);

    const auto lines = AuditLines(gw.data_dir(), &before_restart);
    CAPTURE(before_restart);
    std::map<std::string, std::vector<nlohmann::json>> by_event;
    for (const auto& line : lines) {
      REQUIRE(line.is_object());  // every line parses on its own
      CHECK(Field(line, "time") != "");
      by_event[Field(line, "event")].push_back(line);
    }
    REQUIRE(by_event["issued"].size() == 2);
    REQUIRE(by_event["denied"].size() == 1);
    REQUIRE(by_event["pending"].size() == 1);
    REQUIRE(by_event["approved"].size() == 1);
    REQUIRE(by_event["revoked"].size() == 1);
    CHECK(lines.size() == 6);

    const auto& first_issue = by_event["issued"][0];
    CHECK(Field(first_issue, "transaction_id") == issued_txid);
    CHECK(Field(first_issue, "serial") == issued_serial);
    CHECK(Field(first_issue, "subject").find("CN=audited") != std::string::npos);
    CHECK(Field(first_issue, "endpoint") == "auto");
    CHECK(Field(by_event["issued"][1], "serial") == approved_serial);
    CHECK(Field(by_event["issued"][1], "transaction_id") == pending_txid);
    CHECK(Field(by_event["denied"][0], "transaction_id") == denied_txid);
    CHECK(Field(by_event["denied"][0], "reason").find("challenge password incorrect") != std::string::npos);
    CHECK(Field(by_event["denied"][0], "subject").find("CN=audited-wrong") != std::string::npos);
    CHECK(Field(by_event["pending"][0], "transaction_id") == pending_txid);
    CHECK(Field(by_event["pending"][0], "endpoint") == "manual");
    CHECK(Field(by_event["approved"][0], "transaction_id") == pending_txid);
    CHECK(Field(by_event["approved"][0], "actor") == "cli");
    CHECK(Field(by_event["approved"][0], "subject").find("CN=audited-held") != std::string::npos);
    CHECK(Field(by_event["revoked"][0], "serial") == issued_serial);
    CHECK(Field(by_event["revoked"][0], "transaction_id") == issued_txid);
    CHECK(Field(by_event["revoked"][0], "reason") == "affiliationChanged");
    CHECK(Field(by_event["revoked"][0], "subject").find("CN=audited") != std::string::npos);
    REQUIRE(gw.Stop() == 0);
  }

  // The same data dir again: the earlier lines stay, new ones follow.
  test::GatewayProcess gw({.config_yaml = yaml, .data_dir = dir / "data"});
  test::ScepTestClient automatic(gw.port(), "/auto");
  REQUIRE(automatic.FetchCa() == "");
  auto device = Device("after-restart");
  auto issued = automatic.Enroll(device);
  test::CheckIssued(issued, device);
  std::string after_restart;
  const auto lines = AuditLines(gw.data_dir(), &after_restart);
  CHECK(after_restart.compare(0, before_restart.size(), before_restart) == 0);
  REQUIRE(lines.size() == 7);
  CHECK(Field(lines.back(), "event") == "issued");
  CHECK(Field(lines.back(), "transaction_id") == issued.transaction_id);
}
