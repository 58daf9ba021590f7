// The running gateway's HTTP surface: GetCACaps, GetCACert on any path and with any `message`, long URLs, HTTP/1.0
// without Host, and the answers to bad input (4xx with a reason, never 500).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "tests/support/gateway_process.h"
#include "tests/support/scep_test_client.h"

namespace {

// One gateway for the whole file: these cases only read from it or enroll independent devices.
test::GatewayProcess& Gateway() {
  static test::GatewayProcess gw;
  return gw;
}

// Sends raw bytes on a fresh connection, half-closes only if asked, and reads until the server closes (or 10 s).
std::string RawExchange(std::uint16_t port, const std::string& request, bool shutdown_write = true) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    if (shutdown_write) ::shutdown(fd, SHUT_WR);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

const char* const kPaths[] = {"/scep", "/cgi-bin/pkiclient.exe", "/certsrv/mscep/mscep.dll", "/foo/pkiclient.exe"};

}  // namespace

TEST_CASE("GetCACaps lists the capabilities as text/plain on every path") {
  for (const char* path : kPaths) {
    CAPTURE(path);
    gateway::HttpClient http("127.0.0.1", Gateway().port());
    auto resp = http.Get(std::string(path) + "?operation=GetCACaps");
    REQUIRE(resp.ok());
    CHECK(resp->status == 200);
    CHECK(resp->content_type.rfind("text/plain", 0) == 0);
    std::vector<std::string> lines;
    std::string line;
    for (char c : resp->body) {
      if (c == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
        line.clear();
      } else {
        line += c;
      }
    }
    for (const char* cap :
         {"POSTPKIOperation", "Renewal", "SHA-1", "SHA-256", "SHA-512", "AES", "DES3", "SCEPStandard"}) {
      CAPTURE(cap);
      CHECK(std::find(lines.begin(), lines.end(), cap) != lines.end());
    }
  }
}

TEST_CASE("GetCACert answers the same DER certificate whatever the message and path") {
  const std::string ca_der_from_disk = [] {
    auto cert = scep::CertFromPem(test::ReadText(Gateway().ca_pem()));
    REQUIRE(cert.ok());
    auto der = scep::CertToDer(cert->get());
    REQUIRE(der.ok());
    return scep::AsString(*der);
  }();
  for (const char* path : kPaths) {
    for (const char* query : {"operation=GetCACert", "operation=GetCACert&message=0", "operation=GetCACert&message=1",
                              "operation=GetCACert&message=whatever", "message=CAIdentifier&operation=GetCACert"}) {
      CAPTURE(path);
      CAPTURE(query);
      gateway::HttpClient http("127.0.0.1", Gateway().port());
      auto resp = http.Get(std::string(path) + "?" + query);
      REQUIRE(resp.ok());
      CHECK(resp->status == 200);
      CHECK(resp->content_type == "application/x-x509-ca-cert");
      CHECK(resp->body == ca_der_from_disk);
    }
  }
}

TEST_CASE("enrollment works on every path") {
  auto key = scep::UniquePtr<EVP_PKEY>(EVP_RSA_gen(2048));
  for (const char* path : kPaths) {
    CAPTURE(path);
    test::ScepTestClient client(Gateway().port(), path);
    REQUIRE(client.FetchCa() == "");
    auto device = test::MakeDevice({.subject = {{"CN", std::string("path") + path}}, .challenge = "test-challenge"},
                                   key.get());
    REQUIRE(device.error == "");
    for (auto transport : {test::Transport::Post, test::Transport::GetPercentEncoded}) {
      auto reply = client.Enroll(device, {.transport = transport});
      INFO(test::to_string(transport) << ": " << reply.Describe());
      CHECK(reply.success());
      REQUIRE(reply.cert() != nullptr);
      CHECK(X509_NAME_cmp(X509_get_subject_name(reply.cert()), X509_REQ_get_subject_name(device.csr.get())) == 0);
    }
  }
}

TEST_CASE("a GET PKIOperation with a URL of almost 64 KiB succeeds; a longer one gets 414") {
  test::ScepTestClient client(Gateway().port());
  REQUIRE(client.FetchCa() == "");
  auto key = scep::UniquePtr<EVP_PKEY>(EVP_RSA_gen(2048));
  // Grow the SAN list until the URL is just under the gateway's default 65536-byte limit.
  const auto make = [&](int n) {
    std::string sans;
    for (int i = 0; i < n; ++i) sans += (i ? "," : "") + std::string("DNS:host-") + std::to_string(i) + ".long.example";
    return test::MakeDevice({.subject = {{"CN", "long-url"}}, .sans = sans, .challenge = "test-challenge"}, key.get());
  };
  // Measure one request, then scale the SAN count to aim at ~62 KiB of URL.
  int sans = 500;
  std::string target;
  test::Device device;
  scep::Bytes der;
  for (int round = 0; round < 4; ++round) {
    device = make(sans);
    REQUIRE(device.error == "");
    scep::PkiRequest req;
    req.transaction_id = test::RandomHex(16);
    req.content = device.csr_der;
    req.recipient = client.recipient();
    req.signer = {device.self_signed.get(), device.key.get()};
    auto built = scep::BuildPkiRequest(req);
    REQUIRE(built.ok());
    der = std::move(*built);
    target = client.Target("operation=PKIOperation&message=" +
                           test::EncodeMessageParam(der, test::Transport::GetPercentEncoded));
    if (target.size() > 60 * 1024 && target.size() <= 65536) break;
    sans = static_cast<int>(sans * (62.0 * 1024 / static_cast<double>(target.size())));
  }
  CAPTURE(target.size());
  REQUIRE(target.size() > 60 * 1024);
  REQUIRE(target.size() <= 65536);

  auto resp = client.http().Get(target);
  REQUIRE(resp.ok());
  REQUIRE(resp->status == 200);
  auto rep = scep::ParsePkiMessage(scep::AsBytes(resp->body));
  REQUIRE(rep.ok());
  CHECK(rep->pki_status == scep::PkiStatus::Success);
  auto opened = scep::OpenCertRep(*rep, device.self_signed.get(), device.key.get());
  REQUIRE(opened.ok());
  REQUIRE(opened->certs.size() == 1);
  scep::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(opened->certs[0].get(), NID_subject_alt_name, nullptr, nullptr)));
  REQUIRE(names != nullptr);
  CHECK(sk_GENERAL_NAME_num(names.get()) == sans);

  // The same message padded past the limit is refused with 414, not 500 and not a dropped connection.
  auto too_long = client.http().Get(target + "&padding=" + std::string(8 * 1024, 'x'));
  REQUIRE(too_long.ok());
  CHECK(too_long->status == 414);
}

TEST_CASE("HTTP/1.0 without a Host header is answered") {
  const std::string reply =
      RawExchange(Gateway().port(), "GET /cgi-bin/pkiclient.exe?operation=GetCACaps HTTP/1.0\r\n\r\n");
  CAPTURE(reply);
  CHECK(reply.rfind("HTTP/1.0 200", 0) == 0);
  CHECK(reply.find("\r\n\r\n") != std::string::npos);
  CHECK(reply.find("POSTPKIOperation") != std::string::npos);
}

TEST_CASE("/healthz answers 200") {
  gateway::HttpClient http("127.0.0.1", Gateway().port());
  auto resp = http.Get("/healthz");
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
}

TEST_CASE("a body announced over the 1 MiB limit gets 413 before it is sent") {
  // Only the header goes out; the socket stays open for writing, so the 413 cannot be a reaction to a close.
  const std::string reply = RawExchange(Gateway().port(),
                                        "POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: x\r\n"
                                        "Content-Type: application/x-pki-message\r\nContent-Length: 2000000\r\n\r\n",
                                        /*shutdown_write=*/false);
  CAPTURE(reply);
  CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
}

TEST_CASE("a body just under the limit is read, and refused as not a pkiMessage rather than as too large") {
  gateway::HttpClient http("127.0.0.1", Gateway().port());
  std::string body(1024 * 1024 - 16, 'A');
  body[0] = 0x30;  // looks like DER
  auto resp = http.Post("/scep?operation=PKIOperation", body, "application/x-pki-message");
  REQUIRE(resp.ok());
  CHECK(resp->status == 400);
}

TEST_CASE("bad input gets 400 with a reason, never 500") {
  test::ScepTestClient client(Gateway().port());
  REQUIRE(client.FetchCa() == "");
  auto device = test::MakeDevice({.challenge = "test-challenge"});
  REQUIRE(device.error == "");
  scep::PkiRequest req;
  req.transaction_id = "truncated";
  req.content = device.csr_der;
  req.recipient = client.recipient();
  req.signer = {device.self_signed.get(), device.key.get()};
  auto valid = scep::BuildPkiRequest(req);
  REQUIRE(valid.ok());
  const std::string truncated(valid->begin(), valid->begin() + static_cast<std::ptrdiff_t>(valid->size() / 2));

  std::string der_like = "\x30\x82\x04\x00";
  for (int i = 0; i < 1024; ++i) der_like += static_cast<char>((i * 7919 + 13) % 251);

  struct Case {
    const char* what;
    bool post;
    std::string target;
    std::string body;
  };
  const Case cases[] = {
      {"garbage POST", true, "/scep?operation=PKIOperation", "this is not a SCEP message at all!"},
      {"empty POST", true, "/scep?operation=PKIOperation", ""},
      {"DER-looking random POST", true, "/scep?operation=PKIOperation", der_like},
      {"truncated pkiMessage POST", true, "/scep?operation=PKIOperation", truncated},
      {"GET PKIOperation without message", false, "/scep?operation=PKIOperation", ""},
      {"GET PKIOperation with undecodable message", false, "/scep?operation=PKIOperation&message=%25%25%25", ""},
      {"GET PKIOperation with DER-looking random bytes", false,
       "/scep?operation=PKIOperation&message=" + test::EncodeMessageParam(scep::AsBytes(der_like),
                                                                           test::Transport::GetPercentEncoded),
       ""},
      {"unknown operation", false, "/scep?operation=FrobnicateCA", ""},
      {"no operation", false, "/scep", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    gateway::HttpClient http("127.0.0.1", Gateway().port());
    auto resp = c.post ? http.Post(c.target, c.body, "application/x-pki-message") : http.Get(c.target);
    REQUIRE(resp.ok());
    CAPTURE(resp->body);
    CHECK(resp->status == 400);
    // A reason, not just the status: "bad request: <why>".
    CHECK(resp->body.rfind("bad request: ", 0) == 0);
    CHECK(resp->body.size() > std::string("bad request: \n").size());
  }
  CHECK(Gateway().Log().find("status=500") == std::string::npos);
  CHECK(Gateway().running());
}
