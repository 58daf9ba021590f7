// What the running gateway decides about a request, end to end: local policy rules, manual approval with the CLI and
// the JSON API, and the policy webhook (a real HTTP server in a child process).
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
#include "tests/support/webhook_server.h"

using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;
using namespace test::decision;

TEST_CASE("policy rules refuse with a signed badRequest that names the rule") {
  const std::string yaml = R"(
endpoints:
  - name: strict
    path: /strict
    policy:
      subject: ['CN=^dev-[0-9]+$']
      san_patterns: ['DNS=^[a-z0-9-]+\.example\.com$']
  - name: forced
    path: /forced
    policy:
      force_subject: ['O=Forced Org']
      san_patterns: ['DNS=\.example\.com$']
      disallowed_sans: drop
      max_validity_days: 30
)";
  test::GatewayProcess gw({.config_yaml = yaml});
  test::ScepTestClient strict(gw.port(), "/strict/pkiclient.exe");
  REQUIRE(strict.FetchCa() == "");

  test::CheckFailure(strict.Enroll(Device("laptop", "DNS:dev-1.example.com")), FailInfo::BadRequest,
               "subject CN 'laptop' does not match ^dev-[0-9]+$");
  auto small = test::MakeDevice({.subject = {{"CN", "dev-2"}}, .challenge = kChallenge, .rsa_bits = 1024});
  REQUIRE(small.error == "");
  test::CheckFailure(strict.Enroll(small), FailInfo::BadRequest, "RSA key of 1024 bits is below the minimum 2048");
  scep::UniquePtr<EVP_PKEY> p521(EVP_EC_gen("P-521"));
  REQUIRE(p521 != nullptr);
  auto ec = test::MakeDevice({.subject = {{"CN", "dev-3"}}, .challenge = kChallenge}, p521.get());
  REQUIRE(ec.error == "");
  test::CheckFailure(strict.Enroll(ec), FailInfo::BadRequest, "EC curve");
  test::CheckFailure(strict.Enroll(Device("dev-4", "DNS:dev-4.example.com,DNS:evil.org")), FailInfo::BadRequest,
               "SAN DNS:evil.org not allowed by policy.san_patterns");
  // The rules run after the challenge: a wrong one is still refused for that.
  test::CheckFailure(strict.Enroll(Device("dev-5", "", "wrong")), FailInfo::BadRequest, "challenge password incorrect");
  CHECK(test::ListCerts(gw.data_dir()).count == 0);

  // Control: a request that keeps every rule is issued as asked.
  auto good = Device("dev-6", "DNS:dev-6.example.com");
  auto issued = strict.Enroll(good);
  test::CheckIssued(issued, good);
  if (issued.success()) {
    CHECK(test::SubjectField(issued.cert(), "O") == "Integration Tests");
    CHECK(test::SubjectAltNames(issued.cert()) == std::vector<std::string>{"DNS:dev-6.example.com"});
  }

  // force_subject replaces O, disallowed_sans: drop drops what no pattern allows, max_validity_days caps.
  test::ScepTestClient forced(gw.port(), "/forced/pkiclient.exe");
  REQUIRE(forced.FetchCa() == "");
  auto device = Device("sensor", "DNS:sensor.example.com,DNS:evil.org,DNS:other.example.com");
  auto reply = forced.Enroll(device);
  test::CheckIssued(reply, device);
  REQUIRE(reply.success());
  CHECK(test::SubjectField(reply.cert(), "O") == "Forced Org");
  CHECK(test::SubjectField(reply.cert(), "CN") == "sensor");
  CHECK(test::SubjectAltNames(reply.cert()) ==
        std::vector<std::string>{"DNS:sensor.example.com", "DNS:other.example.com"});
  const std::int64_t lifetime =
      scep::ToUnixTime(X509_get0_notAfter(reply.cert())) - scep::ToUnixTime(X509_get0_notBefore(reply.cert()));
  CHECK(lifetime <= 30 * 86400 + 3600);
  CHECK(lifetime >= 29 * 86400);
  const auto listing = test::ListCerts(gw.data_dir());
  CAPTURE(listing.output);
  CHECK(listing.count == 2);
  CHECK(listing.output.find("Forced Org") != std::string::npos);
}

TEST_CASE("approval: manual holds requests until the CLI or the API decides") {
  test::TempDir dir;
  std::string out;
  REQUIRE_MESSAGE(AddUser(dir / "data", &out) == 0, out);
  test::GatewayProcess gw({.config_yaml = "policy:\n  approval: manual\n", .data_dir = dir / "data"});
  test::ScepTestClient client(gw.port());
  REQUIRE(client.FetchCa() == "");

  // A: held, polled, approved with the CLI while the gateway runs, then issued to the poll and to a re-sent PKCSReq.
  auto a = Device("held-a");
  auto first = client.Enroll(a);
  test::CheckPending(first);
  test::CheckPending(client.Poll(a, first.transaction_id));
  test::CheckPending(client.Resend(first, test::Transport::Post, a.self_signed.get(), a.key.get()));
  CHECK(test::ListCerts(gw.data_dir()).count == 0);

  REQUIRE(gw.Cli("requests list --status pending", &out) == 0);
  CAPTURE(out);
  const std::int64_t id_a = RequestId(out, first.transaction_id);
  REQUIRE(id_a > 0);
  CHECK(out.find("held-a") != std::string::npos);
  REQUIRE(gw.Cli("requests show " + std::to_string(id_a), &out) == 0);
  CHECK(out.find(first.transaction_id) != std::string::npos);
  CHECK(out.find("pending") != std::string::npos);
  REQUIRE(gw.Cli("requests approve " + std::to_string(id_a), &out) == 0);

  auto polled = client.Poll(a, first.transaction_id);
  test::CheckIssued(polled, a);
  REQUIRE(polled.success());
  auto resent = client.Resend(first, test::Transport::Post, a.self_signed.get(), a.key.get());
  test::CheckIssued(resent, a);
  REQUIRE(resent.success());
  CHECK(X509_cmp(resent.cert(), polled.cert()) == 0);
  CHECK(test::ListCerts(gw.data_dir()).count == 1);
  REQUIRE(gw.Cli("requests list --status issued", &out) == 0);
  CHECK(RequestId(out, first.transaction_id) == id_a);
  // A decided request cannot be decided again.
  CHECK(gw.Cli("requests deny " + std::to_string(id_a) + " --reason late", &out) != 0);
  CHECK(out.find("not pending") != std::string::npos);
  // The transactionID is taken: a different request under it is refused.
  test::CheckFailure(client.Enroll(Device("intruder"), {.transaction_id = first.transaction_id}), FailInfo::BadRequest,
               "transactionID already used");

  // B: denied with a reason, which the poll and the re-sent request both get.
  auto b = Device("held-b");
  auto second = client.Enroll(b);
  test::CheckPending(second);
  REQUIRE(gw.Cli("requests list --status pending", &out) == 0);
  const std::int64_t id_b = RequestId(out, second.transaction_id);
  REQUIRE(id_b > 0);
  CHECK(RequestId(out, first.transaction_id) == 0);
  REQUIRE(gw.Cli("requests deny " + std::to_string(id_b) + " --reason \"not ours\"", &out) == 0);
  test::CheckFailure(client.Poll(b, second.transaction_id), FailInfo::BadRequest, "not ours");
  test::CheckFailure(client.Resend(second, test::Transport::Post, b.self_signed.get(), b.key.get()), FailInfo::BadRequest,
               "not ours");

  // C: expires while pending. pending_expiry_hours is at least 1, so the expiry is moved into the past in the store
  // (the gateway reads it on every poll) rather than waited for.
  auto c = Device("held-c");
  auto third = client.Enroll(c);
  test::CheckPending(third);
  int changed = 0;
  REQUIRE(test::ExecSql(gw.store_path(),
                        "UPDATE enrollment_requests SET expires_at = 1 WHERE transaction_id = '" +
                            third.transaction_id + "'",
                        &changed) == "");
  REQUIRE(changed == 1);
  test::CheckFailure(client.Poll(c, third.transaction_id), FailInfo::BadRequest, "expired");

  // D: approved through the JSON API.
  auto d = Device("held-d");
  auto fourth = client.Enroll(d);
  test::CheckPending(fourth);
  auto pending = Api(gw.port(), "GET", "/api/v1/requests?status=pending");
  CAPTURE(pending.body.dump());
  REQUIRE(pending.status == 200);
  REQUIRE(pending.body.is_array());
  REQUIRE(pending.body.size() == 1);
  CHECK(pending.body[0]["transaction_id"] == fourth.transaction_id);
  CHECK(pending.body[0]["subject"].get<std::string>().find("held-d") != std::string::npos);
  const std::int64_t id_d = pending.body[0]["id"].get<std::int64_t>();
  auto approved = Api(gw.port(), "POST", "/api/v1/requests/" + std::to_string(id_d) + "/approve", "{}");
  CHECK(approved.status == 200);
  test::CheckIssued(client.Poll(d, fourth.transaction_id), d);
  auto denied = Api(gw.port(), "GET", "/api/v1/requests?status=denied");
  REQUIRE(denied.body.is_array());
  CHECK(denied.body.size() == 2);  // B by the CLI, C by expiry
  CHECK(test::ListCerts(gw.data_dir()).count == 2);
  // A poll for a transaction nobody sent is badCertId.
  test::CheckFailure(client.Poll(d, "no-such-transaction"), FailInfo::BadCertId, "");
}

TEST_CASE("the policy webhook decides; an unreachable one falls back to on_unavailable") {
  test::TempDir dir;
  const std::string record = (dir / "hook.jsonl").string();
  test::WebhookServer issue({"--decision", "issue", "--record", record});
  test::WebhookServer deny({"--decision", "deny"});
  test::WebhookServer pend({"--decision", "pend"});
  const std::string closed = "http://127.0.0.1:" + std::to_string(test::FreeLoopbackPort()) + "/hook";
  const std::string yaml = "challenge: {mode: static, secret: static-secret}\nendpoints:\n"
                           "  - {name: issue, path: /issue, challenge: {mode: webhook}, policy: {webhook: {url: '" +
                           issue.url() + "'}}}\n" +
                           "  - {name: deny, path: /deny, challenge: {mode: webhook}, policy: {webhook: {url: '" +
                           deny.url() + "'}}}\n" +
                           "  - {name: pend, path: /pend, challenge: {mode: webhook}, policy: {webhook: {url: '" +
                           pend.url() + "'}}}\n" +
                           "  - {name: down-deny, path: /down-deny, challenge: {mode: webhook}, policy: {webhook: "
                           "{url: '" + closed + "', retries: 0, timeout_seconds: 1, on_unavailable: deny}}}\n" +
                           "  - {name: down-pend, path: /down-pend, challenge: {mode: webhook}, policy: {webhook: "
                           "{url: '" + closed + "', retries: 1, timeout_seconds: 1, on_unavailable: pend}}}\n" +
                           "  - {name: static, path: /static, policy: {webhook: {url: '" + issue.url() + "'}}}\n";
  // No --challenge: it would turn every endpoint's challenge into a static one.
  test::GatewayProcess gw({.challenge = "", .config_yaml = yaml});
  auto client = [&](const std::string& path) {
    auto c = std::make_unique<test::ScepTestClient>(gw.port(), path + "/pkiclient.exe");
    REQUIRE(c->FetchCa() == "");
    return c;
  };

  // issue: the hook sees the request's facts, including the challenge (challenge.mode webhook validates it there).
  auto issued_device = test::MakeDevice({.subject = {{"O", "Integration Tests"}, {"CN", "hooked"}},
                                         .sans = "DNS:hooked.example.com",
                                         .challenge = "ticket-4711",
                                         .key_usage = "digitalSignature"});
  REQUIRE(issued_device.error == "");
  auto issued = client("/issue")->Enroll(issued_device);
  test::CheckIssued(issued, issued_device);
  std::vector<nlohmann::json> asked;
  {
    std::istringstream in(test::ReadText(record));
    for (std::string line; std::getline(in, line);) asked.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  REQUIRE(asked.size() == 1);
  CHECK(Field(asked[0], "path") == "/hook");
  CHECK(Field(asked[0], "content_type").find("application/json") == 0);
  const auto question = nlohmann::json::parse(Field(asked[0], "body"), nullptr, false);
  CAPTURE(question.dump());
  REQUIRE(question.is_object());
  CHECK(Field(question, "transaction_id") == issued.transaction_id);
  CHECK(Field(question, "challenge") == "ticket-4711");
  CHECK(Field(question, "subject").find("CN=hooked") != std::string::npos);
  CHECK(Field(question, "endpoint") == "issue");
  CHECK(Field(question, "message_type") == "PKCSReq");
  CHECK(Field(question, "key_type") == "RSA");
  CHECK(question["key_bits"] == 2048);
  CHECK(question["renewal"] == false);
  CHECK(question["sans"] == nlohmann::json::array({"DNS:hooked.example.com"}));
  CHECK(question["key_usage"] == nlohmann::json::array({"digitalSignature"}));
  CHECK(Field(question, "csr").find("-----BEGIN CERTIFICATE REQUEST-----") == 0);

  test::CheckFailure(client("/deny")->Enroll(Device("refused", "", "ticket")), FailInfo::BadRequest, "hook says deny");
  auto held = client("/pend")->Enroll(Device("held", "", "ticket"));
  test::CheckPending(held);
  std::string out;
  REQUIRE(gw.Cli("requests list --status pending", &out) == 0);
  CHECK(RequestId(out, held.transaction_id) > 0);

  test::CheckFailure(client("/down-deny")->Enroll(Device("nobody-home", "", "ticket")), FailInfo::BadRequest,
               "webhook unavailable");
  test::CheckPending(client("/down-pend")->Enroll(Device("nobody-home-2", "", "ticket")));

  // With a static challenge, a wrong one is refused before the hook is asked; the right one is asked about.
  test::CheckFailure(client("/static")->Enroll(Device("static-wrong", "", "ticket")), FailInfo::BadRequest,
               "challenge password incorrect");
  auto right = Device("static-right", "", "static-secret");
  test::CheckIssued(client("/static")->Enroll(right), right);
  std::istringstream in(test::ReadText(record));
  int count = 0;
  for (std::string line; std::getline(in, line);) ++count;
  CHECK(count == 2);
  CHECK(test::ListCerts(gw.data_dir()).count == 2);
}

