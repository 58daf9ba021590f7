// What the running gateway decides about a request, end to end: local policy rules, manual approval with the CLI and
// the JSON API, the policy webhook (a real HTTP server in a child process), revocation and CRLs, and the audit file.
#include <doctest/doctest.h>

#include <openssl/x509v3.h>

#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/gateway_process.h"
#include "tests/support/issued_cert_checks.h"
#include "tests/support/scep_test_client.h"
#include "tests/support/webhook_server.h"

using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

namespace {

const std::string kChallenge = "test-challenge";  // GatewayOptions' default --challenge
const std::string kAdmin = "approver";
const std::string kAdminPassword = "approver password";

test::Device Device(const std::string& cn, const std::string& sans = {}, const std::string& challenge = kChallenge) {
  auto d =
      test::MakeDevice({.subject = {{"O", "Integration Tests"}, {"CN", cn}}, .sans = sans, .challenge = challenge});
  REQUIRE(d.error == "");
  return d;
}

// A signed FAILURE whose failInfoText contains `text`.
void CheckFailure(const test::ScepReply& reply, FailInfo expected, const std::string& text) {
  INFO(reply.Describe());
  REQUIRE(reply.rep.has_value());
  CHECK(reply.signature_ok);
  CHECK(reply.signed_by_published_signer);
  CHECK(reply.rep->pki_status == PkiStatus::Failure);
  CHECK(reply.rep->fail_info == expected);
  CHECK(reply.rep->fail_info_text.find(text) != std::string::npos);
  CHECK(reply.rep->transaction_id == reply.transaction_id);
  CHECK(reply.rep->recipient_nonce == reply.sender_nonce);
}

void CheckPending(const test::ScepReply& reply) {
  INFO(reply.Describe());
  REQUIRE(reply.rep.has_value());
  CHECK(reply.signature_ok);
  CHECK(reply.signed_by_published_signer);
  CHECK(reply.rep->pki_status == PkiStatus::Pending);
  CHECK(!reply.rep->fail_info.has_value());
  CHECK(reply.certs.empty());
  CHECK(reply.rep->transaction_id == reply.transaction_id);
  CHECK(reply.rep->recipient_nonce == reply.sender_nonce);
}

int AddUser(const std::filesystem::path& data_dir, std::string* out) {
  std::filesystem::create_directories(data_dir);
  return test::Run("printf '%s\\n' '" + kAdminPassword + "' | '" + test::GatewayBinary().string() + "' users add " +
                       kAdmin + " --data-dir '" + data_dir.string() + "'",
                   out);
}

struct ApiReply {
  int status = 0;
  nlohmann::json body;
};

ApiReply Api(std::uint16_t port, const std::string& method, const std::string& target, const std::string& body = {}) {
  gateway::HttpClientOptions options;
  options.headers = {{"Authorization", test::BasicAuthorization(kAdmin, kAdminPassword)}};
  gateway::HttpClient http("127.0.0.1", port, options);
  auto resp = method == "GET" ? http.Get(target) : http.Post(target, body, "application/json");
  if (!resp) return {-1, nlohmann::json{{"transport_error", resp.error().ToString()}}};
  return {resp->status, nlohmann::json::parse(resp->body, nullptr, false)};
}

// The id `requests list` shows for a transaction (it prints the first 20 characters of the transactionID); 0 if none.
std::int64_t RequestId(const std::string& listing, const std::string& transaction_id) {
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(transaction_id.substr(0, 20)) != std::string::npos) return std::atoll(line.c_str());
  }
  return 0;
}

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

std::vector<nlohmann::json> AuditLines(const std::filesystem::path& data_dir, std::string* raw = nullptr) {
  const std::string text = test::ReadText(data_dir / "audit.jsonl");
  if (raw != nullptr) *raw = text;
  std::vector<nlohmann::json> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line, nullptr, false));
  return out;
}

std::string Field(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

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

  CheckFailure(strict.Enroll(Device("laptop", "DNS:dev-1.example.com")), FailInfo::BadRequest,
               "subject CN 'laptop' does not match ^dev-[0-9]+$");
  auto small = test::MakeDevice({.subject = {{"CN", "dev-2"}}, .challenge = kChallenge, .rsa_bits = 1024});
  REQUIRE(small.error == "");
  CheckFailure(strict.Enroll(small), FailInfo::BadRequest, "RSA key of 1024 bits is below the minimum 2048");
  scep::UniquePtr<EVP_PKEY> p521(EVP_EC_gen("P-521"));
  REQUIRE(p521 != nullptr);
  auto ec = test::MakeDevice({.subject = {{"CN", "dev-3"}}, .challenge = kChallenge}, p521.get());
  REQUIRE(ec.error == "");
  CheckFailure(strict.Enroll(ec), FailInfo::BadRequest, "EC curve");
  CheckFailure(strict.Enroll(Device("dev-4", "DNS:dev-4.example.com,DNS:evil.org")), FailInfo::BadRequest,
               "SAN DNS:evil.org not allowed by policy.san_patterns");
  // The rules run after the challenge: a wrong one is still refused for that.
  CheckFailure(strict.Enroll(Device("dev-5", "", "wrong")), FailInfo::BadRequest, "challenge password incorrect");
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
  CheckPending(first);
  CheckPending(client.Poll(a, first.transaction_id));
  CheckPending(client.Resend(first, test::Transport::Post, a.self_signed.get(), a.key.get()));
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
  CheckFailure(client.Enroll(Device("intruder"), {.transaction_id = first.transaction_id}), FailInfo::BadRequest,
               "transactionID already used");

  // B: denied with a reason, which the poll and the re-sent request both get.
  auto b = Device("held-b");
  auto second = client.Enroll(b);
  CheckPending(second);
  REQUIRE(gw.Cli("requests list --status pending", &out) == 0);
  const std::int64_t id_b = RequestId(out, second.transaction_id);
  REQUIRE(id_b > 0);
  CHECK(RequestId(out, first.transaction_id) == 0);
  REQUIRE(gw.Cli("requests deny " + std::to_string(id_b) + " --reason \"not ours\"", &out) == 0);
  CheckFailure(client.Poll(b, second.transaction_id), FailInfo::BadRequest, "not ours");
  CheckFailure(client.Resend(second, test::Transport::Post, b.self_signed.get(), b.key.get()), FailInfo::BadRequest,
               "not ours");

  // C: expires while pending. pending_expiry_hours is at least 1, so the expiry is moved into the past in the store
  // (the gateway reads it on every poll) rather than waited for.
  auto c = Device("held-c");
  auto third = client.Enroll(c);
  CheckPending(third);
  int changed = 0;
  REQUIRE(test::ExecSql(gw.store_path(),
                        "UPDATE enrollment_requests SET expires_at = 1 WHERE transaction_id = '" +
                            third.transaction_id + "'",
                        &changed) == "");
  REQUIRE(changed == 1);
  CheckFailure(client.Poll(c, third.transaction_id), FailInfo::BadRequest, "expired");

  // D: approved through the JSON API.
  auto d = Device("held-d");
  auto fourth = client.Enroll(d);
  CheckPending(fourth);
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
  CheckFailure(client.Poll(d, "no-such-transaction"), FailInfo::BadCertId, "");
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

  CheckFailure(client("/deny")->Enroll(Device("refused", "", "ticket")), FailInfo::BadRequest, "hook says deny");
  auto held = client("/pend")->Enroll(Device("held", "", "ticket"));
  CheckPending(held);
  std::string out;
  REQUIRE(gw.Cli("requests list --status pending", &out) == 0);
  CHECK(RequestId(out, held.transaction_id) > 0);

  CheckFailure(client("/down-deny")->Enroll(Device("nobody-home", "", "ticket")), FailInfo::BadRequest,
               "webhook unavailable");
  CheckPending(client("/down-pend")->Enroll(Device("nobody-home-2", "", "ticket")));

  // With a static challenge, a wrong one is refused before the hook is asked; the right one is asked about.
  CheckFailure(client("/static")->Enroll(Device("static-wrong", "", "ticket")), FailInfo::BadRequest,
               "challenge password incorrect");
  auto right = Device("static-right", "", "static-secret");
  test::CheckIssued(client("/static")->Enroll(right), right);
  std::istringstream in(test::ReadText(record));
  int count = 0;
  for (std::string line; std::getline(in, line);) ++count;
  CHECK(count == 2);
  CHECK(test::ListCerts(gw.data_dir()).count == 2);
}

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
  CheckFailure(client.Send(again.csr_der, revoked, devices[0].key.get(), {.type = MessageType::RenewalReq}),
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
  CheckFailure(client.Send(successor_csr.csr_der, renewed, devices[1].key.get(), {.type = MessageType::RenewalReq}),
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
    CheckFailure(denied, FailInfo::BadRequest, "challenge password incorrect");
    denied_txid = denied.transaction_id;
    auto held_device = Device("audited-held");
    auto held = manual.Enroll(held_device);
    CheckPending(held);
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
