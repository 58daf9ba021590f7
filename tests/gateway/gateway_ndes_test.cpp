// The gateway as a drop-in for Microsoft NDES, run from the repository's own examples/ndes.yaml: GetCACert with the
// split RA, one-time passwords scraped from /certsrv/mscep_admin/ the way NDES admin tools do it, the JSON API,
// templates chosen by the requested keyUsage, and several endpoints in one gateway.
#include <doctest/doctest.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/gateway_process.h"
#include "tests/support/issued_cert_checks.h"
#include "tests/support/scep_test_client.h"

using scep::FailInfo;

namespace {

constexpr const char* kNdesPath = "/certsrv/mscep/mscep.dll";
constexpr const char* kCertRequestAgent = "1.3.6.1.4.1.311.20.2.1";
constexpr const char* kClientAuth = "1.3.6.1.5.5.7.3.2";
constexpr const char* kServerAuth = "1.3.6.1.5.5.7.3.1";
const std::string kAdmin = "ndes-admin";
// A ':' inside: only the first one separates user from password.
const std::string kAdminPassword = "correct horse:battery";

// What an NDES admin tool reads: UTF-16LE after the BOM. Code units outside ASCII become '?', which is enough to find
// the sentences (they are ASCII).
std::string DecodeUtf16Le(const std::string& body, std::string* error) {
  if (body.size() < 2 || static_cast<unsigned char>(body[0]) != 0xFF || static_cast<unsigned char>(body[1]) != 0xFE) {
    *error = "no UTF-16LE byte order mark";
    return {};
  }
  if (body.size() % 2 != 0) {
    *error = "odd number of bytes";
    return {};
  }
  std::string out;
  for (std::size_t i = 2; i < body.size(); i += 2) {
    const unsigned low = static_cast<unsigned char>(body[i]);
    const unsigned unit = low | static_cast<unsigned>(static_cast<unsigned char>(body[i + 1])) << 8;
    out.push_back(unit < 0x80 ? static_cast<char>(unit) : '?');
  }
  return out;
}

struct Scraped {
  int status = 0;
  std::string page;      // decoded
  std::string password;  // "" when the page has none
  std::string error;
};

// The scraper: GET the admin page with Basic credentials, decode, match the password sentence.
Scraped ScrapePassword(std::uint16_t port, const std::string& user, const std::string& password) {
  Scraped s;
  gateway::HttpClientOptions options;
  options.headers = {{"Authorization", test::BasicAuthorization(user, password)}};
  gateway::HttpClient http("127.0.0.1", port, options);
  auto resp = http.Get("/certsrv/mscep_admin/");
  if (!resp) {
    s.error = resp.error().ToString();
    return s;
  }
  s.status = resp->status;
  s.page = DecodeUtf16Le(resp->body, &s.error);
  std::smatch match;
  static const std::regex kSentence("The enrollment challenge password is: <B> ([^ <]+) </B>");
  if (std::regex_search(s.page, match, kSentence)) s.password = match[1];
  return s;
}

nlohmann::json PostJson(std::uint16_t port, const std::string& target, const std::string& body, int* status) {
  gateway::HttpClientOptions options;
  options.headers = {{"Authorization", test::BasicAuthorization(kAdmin, kAdminPassword)}};
  gateway::HttpClient http("127.0.0.1", port, options);
  auto resp = http.Post(target, body, "application/json");
  *status = resp ? resp->status : -1;
  if (!resp) return nlohmann::json{{"transport_error", resp.error().ToString()}};
  return nlohmann::json::parse(resp->body, nullptr, false);
}

int AddUser(const std::filesystem::path& data_dir, const std::string& name, const std::string& password,
            std::string* out) {
  return test::Run("printf '%s\\n' '" + password + "' | '" + test::GatewayBinary().string() + "' users add " + name +
                       " --data-dir '" + data_dir.string() + "'",
                   out);
}

// The gateway as the example file configures it, with an administrator added by the CLI before the first start.
struct NdesGateway {
  test::TempDir dir;
  std::filesystem::path data = dir / "data";
  std::unique_ptr<test::GatewayProcess> gw;

  NdesGateway() {
    std::string out;
    REQUIRE_MESSAGE(AddUser(data, kAdmin, kAdminPassword, &out) == 0, out);
    // No --challenge (it would make every endpoint static) and no `ca init`: serve creates the CA the file describes.
    gw = std::make_unique<test::GatewayProcess>(test::GatewayOptions{
        .challenge = "", .ca_key = "", .data_dir = data, .config_file = test::SourceDir() / "examples/ndes.yaml"});
  }

  std::string Password() {
    Scraped s = ScrapePassword(gw->port(), kAdmin, kAdminPassword);
    INFO(s.error, s.page);
    REQUIRE(s.status == 200);
    REQUIRE(s.password != "");
    return s.password;
  }

  std::unique_ptr<test::ScepTestClient> Client() {
    auto client = std::make_unique<test::ScepTestClient>(gw->port(), kNdesPath);
    REQUIRE(client->FetchCa() == "");
    return client;
  }
};


bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}


std::int64_t ParseRfc3339(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return -1;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

TEST_CASE("GetCACert on the NDES path: CA, signing RA and encryption RA") {
  NdesGateway ndes;
  gateway::HttpClient http("127.0.0.1", ndes.gw->port());
  // Windows clients send a CA name as `message`; it must not matter.
  auto resp = http.Get(std::string(kNdesPath) + "?operation=GetCACert&message=SomeCAIdentifier");
  REQUIRE(resp.ok());
  REQUIRE(resp->status == 200);
  CHECK(resp->content_type == "application/x-x509-ca-ra-cert");
  auto p7 = scep::ParseDegenerateCerts(scep::AsBytes(resp->body));
  REQUIRE(p7.ok());
  REQUIRE(p7->certs.size() == 3);

  X509* ca = nullptr;
  for (auto& c : p7->certs) {
    if (X509_check_issued(c.get(), c.get()) == X509_V_OK) ca = c.get();
  }
  REQUIRE(ca != nullptr);
  CHECK(test::SubjectField(ca, "CN") == "Example NDES Issuing CA");  // from examples/ndes.yaml
  X509* signing = nullptr;
  X509* encryption = nullptr;
  for (auto& c : p7->certs) {
    if (c.get() == ca) continue;
    CAPTURE(scep::NameToString(X509_get_subject_name(c.get())));
    CHECK(test::ChainsTo(c.get(), ca));
    CHECK(Contains(test::ExtendedKeyUsages(c.get()), kCertRequestAgent));
    const std::uint32_t usage = X509_get_key_usage(c.get());
    if (usage == KU_DIGITAL_SIGNATURE) signing = c.get();
    if (usage == KU_KEY_ENCIPHERMENT) encryption = c.get();
  }
  CHECK(signing != nullptr);
  CHECK(encryption != nullptr);

  // The test client chooses as Windows does: encrypt to the encryption RA, expect replies from the signing RA.
  auto client = ndes.Client();
  REQUIRE(client->recipient() != nullptr);
  REQUIRE(client->reply_signer() != nullptr);
  CHECK(X509_cmp(client->recipient(), encryption) == 0);
  CHECK(X509_cmp(client->reply_signer(), signing) == 0);
}

TEST_CASE("a scraped one-time password enrolls once") {
  NdesGateway ndes;
  const std::string password = ndes.Password();
  CHECK(std::regex_match(password, std::regex("[0-9A-F]{16}")));
  auto client = ndes.Client();

  auto first = test::NamedDevice("router-1", password);
  auto reply = client->Enroll(first);
  test::CheckIssued(reply, first);
  REQUIRE(reply.success());
  CHECK(X509_verify(reply.cert(), X509_get0_pubkey(client->ca())) == 1);
  // The same request again (a device retrying) gets the same certificate: a retry is not a second use.
  auto retry = client->Resend(reply, test::Transport::Post, first.self_signed.get(), first.key.get());
  test::CheckIssued(retry, first);
  REQUIRE(retry.success());
  CHECK(X509_cmp(retry.cert(), reply.cert()) == 0);

  auto second = test::NamedDevice("router-2", password);
  test::CheckFailure(client->Enroll(second), FailInfo::BadRequest, "already used");
  // A password nobody issued.
  test::CheckFailure(client->Enroll(test::NamedDevice("router-3", "0123456789ABCDEF")), FailInfo::BadRequest, "incorrect");
  // No password at all.
  test::CheckFailure(client->Enroll(test::NamedDevice("router-4", "")), FailInfo::BadRequest, "no challenge password");

  const auto listing = test::ListCerts(ndes.data);
  CAPTURE(listing.output);
  CHECK(listing.count == 1);
  CHECK(listing.Has(scep::SerialHex(reply.cert())));
}

TEST_CASE("a request refused for its transactionID does not use up the password it carries") {
  NdesGateway ndes;
  auto client = ndes.Client();
  auto first = test::NamedDevice("reused-id", ndes.Password());
  auto issued = client->Enroll(first);
  test::CheckIssued(issued, first);
  // A different request under the same transactionID (strongSwan derives it from the key) is refused ...
  const std::string password = ndes.Password();
  test::CheckFailure(client->Enroll(test::NamedDevice("reused-id-2", password), {.transaction_id = issued.transaction_id}),
               FailInfo::BadRequest, "transactionID already used");
  // ... for its transactionID, not its password, which is still good for a request under a new transactionID.
  auto second = test::NamedDevice("reused-id-2", password);
  test::CheckIssued(client->Enroll(second), second);
}

TEST_CASE("the password cache holds five outstanding passwords") {
  NdesGateway ndes;
  std::vector<std::string> passwords;
  for (int i = 0; i < 5; ++i) passwords.push_back(ndes.Password());
  std::sort(passwords.begin(), passwords.end());
  CHECK(std::unique(passwords.begin(), passwords.end()) == passwords.end());

  Scraped sixth = ScrapePassword(ndes.gw->port(), kAdmin, kAdminPassword);
  INFO(sixth.error, sixth.page);
  CHECK(sixth.status == 200);
  CHECK(sixth.page.find("The password cache is full.") != std::string::npos);
  CHECK(sixth.password == "");
  int status = 0;
  auto api = PostJson(ndes.gw->port(), "/api/v1/challenges", "{}", &status);
  CHECK(status == 429);

  // Using one frees a place.
  auto client = ndes.Client();
  auto device = test::NamedDevice("cache-device", passwords[0]);
  test::CheckIssued(client->Enroll(device), device);
  Scraped next = ScrapePassword(ndes.gw->port(), kAdmin, kAdminPassword);
  CHECK(next.password != "");
}

TEST_CASE("the admin page refuses wrong credentials with 401 and a Basic challenge") {
  NdesGateway ndes;
  const std::string good = "Authorization: " + test::BasicAuthorization(kAdmin, kAdminPassword) + "\r\n";
  const std::pair<std::string, std::string> cases[] = {
      {"no credentials", ""},
      {"wrong password", "Authorization: " + test::BasicAuthorization(kAdmin, "wrong") + "\r\n"},
      {"unknown user", "Authorization: " + test::BasicAuthorization("intruder", kAdminPassword) + "\r\n"},
      {"not Basic", "Authorization: Bearer abc\r\n"},
  };
  for (const auto& [what, header] : cases) {
    CAPTURE(what);
    auto r = test::RawHttpGet(ndes.gw->port(), "/certsrv/mscep_admin/", header);
    REQUIRE(r.error == "");
    CHECK(r.status == 401);
    CHECK(r.head.find("WWW-Authenticate: Basic") != std::string::npos);
    std::string error;
    const std::string page = DecodeUtf16Le(r.body, &error);
    CHECK(error == "");
    CHECK(page.find("You do not have sufficient permission to enroll with SCEP.") != std::string::npos);
    CHECK(page.find("The enrollment challenge password is") == std::string::npos);
  }
  // Control: the right credentials over the same raw request get a password.
  auto ok = test::RawHttpGet(ndes.gw->port(), "/certsrv/mscep_admin/", good);
  CHECK(ok.status == 200);
  std::string error;
  CHECK(DecodeUtf16Le(ok.body, &error).find("The enrollment challenge password is: <B> ") != std::string::npos);
}

TEST_CASE("a user added while the gateway runs can fetch passwords") {
  NdesGateway ndes;
  // Log in once so that the gateway has loaded the users file before it changes.
  CHECK(ScrapePassword(ndes.gw->port(), kAdmin, kAdminPassword).password != "");
  std::string out;
  REQUIRE_MESSAGE(AddUser(ndes.data, "late-admin", "late password", &out) == 0, out);
  Scraped late = ScrapePassword(ndes.gw->port(), "late-admin", "late password");
  INFO(late.page);
  CHECK(late.status == 200);
  CHECK(late.password != "");
}

TEST_CASE("an expired one-time password is refused") {
  NdesGateway ndes;
  const std::string password = ndes.Password();
  // validity_minutes is at least 1, and waiting a minute would dominate the run: move this password's expiry into the
  // past in the store instead (the gateway reads it on every use). Only hashes are stored, so select by the hash.
  int changed = 0;
  const std::string hash = scep::ToHex(scep::Sha256(scep::AsBytes(password)));
  REQUIRE(test::ExecSql(ndes.gw->store_path(),
                        "UPDATE one_time_challenges SET expires_at = 1 WHERE password_hash = '" + hash + "'",
                        &changed) == "");
  REQUIRE(changed == 1);
  auto client = ndes.Client();
  test::CheckFailure(client->Enroll(test::NamedDevice("late-router", password)), FailInfo::BadRequest, "expired");
  CHECK(test::ListCerts(ndes.data).count == 0);
  // Control: a fresh password works.
  auto device = test::NamedDevice("late-router", ndes.Password());
  test::CheckIssued(client->Enroll(device), device);
}

TEST_CASE("two devices racing with one password: exactly one certificate") {
  NdesGateway ndes;
  const std::string password = ndes.Password();
  std::vector<test::Device> devices;
  for (int i = 0; i < 2; ++i) devices.push_back(test::NamedDevice("racer-" + std::to_string(i), password));
  std::vector<test::ScepReply> replies(2);
  std::vector<std::string> errors(2);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        test::ScepTestClient client(ndes.gw->port(), kNdesPath);
        errors[i] = client.FetchCa();
        if (errors[i].empty()) replies[i] = client.Enroll(devices[i]);
      });
    }
    for (auto& t : threads) t.join();
  }
  int successes = 0;
  int failures = 0;
  for (int i = 0; i < 2; ++i) {
    INFO(errors[i], replies[i].Describe());
    CHECK(errors[i] == "");
    if (replies[i].success()) ++successes;
    if (replies[i].fail_info() == FailInfo::BadRequest) ++failures;
  }
  CHECK(successes == 1);
  CHECK(failures == 1);
  const auto listing = test::ListCerts(ndes.data);
  CAPTURE(listing.output);
  CHECK(listing.count == 1);
}

TEST_CASE("POST /api/v1/challenges, and a challenge bound to a subject") {
  NdesGateway ndes;
  int status = 0;
  const auto before = static_cast<std::int64_t>(std::time(nullptr));
  auto plain = PostJson(ndes.gw->port(), "/api/v1/challenges", "", &status);
  CAPTURE(plain.dump());
  REQUIRE(status == 201);
  REQUIRE(plain.is_object());
  REQUIRE(plain["challenge"].is_string());
  REQUIRE(plain["expires_at"].is_string());
  const std::int64_t expires = ParseRfc3339(plain["expires_at"].get<std::string>());
  CHECK(expires >= before + 60 * 60 - 5);  // validity_minutes: 60 in examples/ndes.yaml
  CHECK(expires <= before + 60 * 60 + 60);

  const std::string pattern_body = R"json({"subject_pattern": "CN=kiosk-7(,|$)"})json";
  auto bound = PostJson(ndes.gw->port(), "/api/v1/challenges", pattern_body, &status);
  CAPTURE(bound.dump());
  REQUIRE(status == 201);
  const std::string password = bound["challenge"].get<std::string>();
  auto client = ndes.Client();
  test::CheckFailure(client->Enroll(test::NamedDevice("kiosk-8", password)), FailInfo::BadRequest, "not valid for this subject");
  test::CheckFailure(client->Enroll(test::NamedDevice("kiosk-70", password)), FailInfo::BadRequest, "not valid for this subject");
  auto right = test::NamedDevice("kiosk-7", password);  // a mismatch did not use the password up
  test::CheckIssued(client->Enroll(right), right);
  // The unbound one works for anyone.
  auto other = test::NamedDevice("anyone", plain["challenge"].get<std::string>());
  test::CheckIssued(client->Enroll(other), other);

  // Without credentials the API says 401; a bad pattern is a 400.
  gateway::HttpClient anonymous("127.0.0.1", ndes.gw->port());
  auto refused = anonymous.Post("/api/v1/challenges", "{}", "application/json");
  REQUIRE(refused.ok());
  CHECK(refused->status == 401);
  PostJson(ndes.gw->port(), "/api/v1/challenges", R"json({"subject_pattern": "CN=("})json", &status);
  CHECK(status == 400);
}

TEST_CASE("templates follow the requested key usage") {
  NdesGateway ndes;
  auto client = ndes.Client();
  struct Case {
    const char* requested;
    std::uint32_t issued_usage;
    std::vector<std::string> issued_ekus;
  };
  // examples/ndes.yaml: signature -> [digitalSignature] + clientAuth, encryption -> [keyEncipherment] + clientAuth,
  // general (both or none) -> [digitalSignature, keyEncipherment] + clientAuth, serverAuth.
  const Case cases[] = {
      {"digitalSignature", KU_DIGITAL_SIGNATURE, {kClientAuth}},
      {"nonRepudiation", KU_DIGITAL_SIGNATURE, {kClientAuth}},
      {"keyEncipherment", KU_KEY_ENCIPHERMENT, {kClientAuth}},
      {"digitalSignature,keyEncipherment", KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, {kClientAuth, kServerAuth}},
      {"", KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT, {kClientAuth, kServerAuth}},
  };
  int n = 0;
  for (const Case& c : cases) {
    CAPTURE(c.requested);
    auto device = test::NamedDevice("template-" + std::to_string(n++), ndes.Password(), c.requested);
    auto reply = client->Enroll(device);
    test::CheckIssued(reply, device);
    if (!reply.success()) continue;
    CHECK(X509_get_key_usage(reply.cert()) == c.issued_usage);
    auto ekus = test::ExtendedKeyUsages(reply.cert());
    std::sort(ekus.begin(), ekus.end());
    auto expected = c.issued_ekus;
    std::sort(expected.begin(), expected.end());
    CHECK(ekus == expected);
  }
}

