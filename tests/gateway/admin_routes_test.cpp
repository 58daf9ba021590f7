// AdminRoutes in-process against the real SQLite stores, a real users file and a real audit log in a temp dir.
#include "gateway/admin_routes.h"

#include <doctest/doctest.h>
#include <openssl/sha.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/admin_users.h"
#include "gateway/audit_log.h"
#include "gateway/sqlite_cert_store.h"
#include "gateway/sqlite_challenge_store.h"
#include "gateway/sqlite_request_store.h"
#include "tests/support/test_files.h"

namespace {

using gateway::AdminRoutes;
using gateway::HttpRequest;
using gateway::HttpResponse;
using nlohmann::json;

constexpr std::int64_t kStart = 1'700'000'000;
constexpr char kThumbprint[] = "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3";

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<std::uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<std::uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char b : md) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

// The page is UTF-16LE after a BOM; every character the gateway writes on it is ASCII.
std::string DecodeAsciiPage(const std::string& body) {
  REQUIRE(body.size() >= 2);
  REQUIRE(static_cast<std::uint8_t>(body[0]) == 0xFF);
  REQUIRE(static_cast<std::uint8_t>(body[1]) == 0xFE);
  REQUIRE(body.size() % 2 == 0);
  std::string out;
  bool ascii = true;
  for (std::size_t i = 2; i < body.size(); i += 2) {
    ascii = ascii && body[i + 1] == '\0' && static_cast<std::uint8_t>(body[i]) < 0x80;
    out.push_back(body[i]);
  }
  CHECK(ascii);
  return out;
}

// What a scraper of NDES pages does.
std::optional<std::string> ScrapePassword(const HttpResponse& response) {
  const std::string html = DecodeAsciiPage(response.body);
  std::smatch match;
  if (!std::regex_search(html, match, std::regex("The enrollment challenge password is: <B> ([0-9A-F]+) </B>"))) {
    return std::nullopt;
  }
  return match[1].str();
}

std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

struct Login {
  std::string user;
  std::string password;
};

HttpRequest MakeRequest(const std::string& method, const std::string& target, const std::optional<Login>& login,
                        const std::string& body = "", bool tls = false) {
  HttpRequest req;
  req.method = method;
  req.target = target;
  const auto q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string::npos ? "" : target.substr(q + 1);
  req.body = body;
  req.remote_address = "127.0.0.1";
  req.tls = tls;
  if (login) req.headers.emplace_back("authorization", "Basic " + Base64(login->user + ":" + login->password));
  return req;
}

json Body(const HttpResponse& response) {
  CHECK(response.content_type == "application/json");
  return json::parse(response.body);
}

std::vector<json> AuditLines(const std::filesystem::path& path) {
  std::vector<json> lines;
  std::istringstream in(test::ReadText(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

const Login kAlice{"alice", "correct horse battery"};

// Everything AdminRoutes needs, real and on disk; `now` is the clock the routes see.
struct Harness {
  test::TempDir dir;
  std::unique_ptr<gateway::SqliteCertStore> certs;
  std::unique_ptr<gateway::SqliteChallengeStore> challenges;
  std::unique_ptr<gateway::SqliteRequestStore> requests;
  std::unique_ptr<gateway::AuditLog> audit;
  std::string users_file;
  std::atomic<std::int64_t> now{kStart};
  std::atomic<int> revocations_seen{0};
  std::unique_ptr<AdminRoutes> routes;

  explicit Harness(bool require_tls = false) {
    const std::string db = (dir / "store.sqlite").string();
    auto c = gateway::SqliteCertStore::Open(db);
    REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().ToString()));
    certs = std::move(*c);
    auto ch = gateway::SqliteChallengeStore::Open(db);
    REQUIRE_MESSAGE(ch.ok(), (ch.ok() ? "" : ch.error().ToString()));
    challenges = std::move(*ch);
    auto r = gateway::SqliteRequestStore::Open(db);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().ToString()));
    requests = std::move(*r);
    auto a = gateway::AuditLog::Open(dir.path(), config::NotificationsConfig{});
    REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.error().ToString()));
    audit = std::move(*a);
    users_file = (dir / "users").string();
    REQUIRE(gateway::AddAdminUser(users_file, kAlice.user, kAlice.password).ok());

    config::OneTimeChallengeConfig ndes_cfg;  // defaults: 5 outstanding, 60 minutes
    config::OneTimeChallengeConfig lab_cfg;
    lab_cfg.max_outstanding = 1;
    lab_cfg.validity_minutes = 10;
    gateway::AdminDependencies deps{
        .endpoints = {{"static", false, {}, "00"}, {"ndes", true, ndes_cfg, kThumbprint},
                      {"lab", true, lab_cfg, "11"}},
        .users_file = users_file,
        .require_tls = require_tls,
        .challenges = *challenges,
        .requests = *requests,
        .certs = *certs,
        .audit = *audit,
        .on_revoked = [this] { ++revocations_seen; },
    };
    routes = std::make_unique<AdminRoutes>(std::move(deps), [this] { return now.load(); });
  }

  HttpResponse Get(const std::string& target, const std::optional<Login>& login = kAlice) {
    return routes->Handle(MakeRequest("GET", target, login));
  }
  HttpResponse Post(const std::string& target, const std::string& body = "",
                    const std::optional<Login>& login = kAlice) {
    return routes->Handle(MakeRequest("POST", target, login, body));
  }

  std::int64_t AddRequest(const std::string& transaction_id, const std::string& subject) {
    gateway::EnrollmentRequest r;
    r.endpoint = "ndes";
    r.transaction_id = transaction_id;
    r.request_fingerprint = std::string(64, 'b');
    r.message_type = "PKCSReq";
    r.subject = subject;
    r.sans = "DNS:" + transaction_id + ".example";
    r.client_address = "192.0.2.7";
    r.csr = {0x30, 0x03, 0x02, 0x01, 0x00};
    r.reason = "manual approval";
    r.created_at = now;
    r.expires_at = now + 3600;
    auto id = requests->Add(r);
    REQUIRE_MESSAGE(id.ok(), (id.ok() ? "" : id.error().ToString()));
    return *id;
  }
};

}  // namespace

TEST_CASE("IsAdminPath covers the NDES admin page and the API, nothing else") {
  CHECK(AdminRoutes::IsAdminPath("/certsrv/mscep_admin"));
  CHECK(AdminRoutes::IsAdminPath("/certsrv/mscep_admin/"));
  CHECK(AdminRoutes::IsAdminPath("/CertSrv/MSCEP_ADMIN/default.asp"));
  CHECK(AdminRoutes::IsAdminPath("/api/v1"));
  CHECK(AdminRoutes::IsAdminPath("/api/v1/requests/3/approve"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/certsrv/mscep/mscep.dll"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/certsrv/mscep_administrator"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/api/v10"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/cgi-bin/pkiclient.exe"));
}

TEST_CASE("without valid credentials the admin pages answer 401 with a Basic challenge") {
  Harness h;
  for (const std::optional<Login>& login :
       {std::optional<Login>(), std::optional<Login>(Login{"alice", "wrong"}),
        std::optional<Login>(Login{"mallory", kAlice.password})}) {
    const HttpResponse page = h.Get("/certsrv/mscep_admin/", login);
    CHECK(page.status == 401);
    CHECK(Header(page, "WWW-Authenticate") == "Basic realm=\"scep-gateway admin\"");
    CHECK(page.content_type == "text/html; charset=utf-16le");
    CHECK(DecodeAsciiPage(page.body).find("You do not have sufficient permission to enroll with SCEP.") !=
          std::string::npos);
    CHECK_FALSE(ScrapePassword(page).has_value());

    const HttpResponse api = h.Post("/api/v1/challenges", "", login);
    CHECK(api.status == 401);
    CHECK(Header(api, "WWW-Authenticate") == "Basic realm=\"scep-gateway admin\"");
    CHECK(Body(api).contains("error"));
  }
  // A header that is not Basic, or not base64, is no login either.
  auto bearer = MakeRequest("GET", "/api/v1/requests", std::nullopt);
  bearer.headers.emplace_back("authorization", "Bearer abc");
  CHECK(h.routes->Handle(bearer).status == 401);
  auto garbage = MakeRequest("GET", "/api/v1/requests", std::nullopt);
  garbage.headers.emplace_back("authorization", "Basic !!!");
  CHECK(h.routes->Handle(garbage).status == 401);
  // Nothing was issued to anyone.
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 0);
}

TEST_CASE("the NDES page issues single-use passwords until the cache is full") {
  Harness h;
  std::vector<std::string> passwords;
  for (int i = 0; i < 5; ++i) {
    const char* spellings[] = {"/certsrv/mscep_admin/", "/certsrv/mscep_admin/default.asp",
                               "/certsrv/mscep_admin/mscep.dll"};
    const HttpResponse page = h.Get(spellings[i % 3]);
    REQUIRE(page.status == 200);
    CHECK(page.content_type == "text/html; charset=utf-16le");
    CHECK(Header(page, "Cache-Control") == "no-store");
    const std::string html = DecodeAsciiPage(page.body);
    CHECK(html.find(std::string("The thumbprint (hash value) for the CA certificate is: <B> ") + kThumbprint +
                    " </B>") != std::string::npos);
    CHECK(html.find("This password can be used only once and will expire within 60 minutes.") !=
          std::string::npos);
    const auto password = ScrapePassword(page);
    REQUIRE(password.has_value());
    CHECK(password->size() == 16);
    passwords.push_back(*password);
  }
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 5);

  SUBCASE("the sixth gets the cache-full page, with status 200 like NDES") {
    const HttpResponse full = h.Get("/certsrv/mscep_admin");
    CHECK(full.status == 200);
    CHECK(DecodeAsciiPage(full.body).find("The password cache is full.") != std::string::npos);
    CHECK_FALSE(ScrapePassword(full).has_value());
    const HttpResponse api = h.Post("/api/v1/challenges", R"({"endpoint": "ndes"})");
    CHECK(api.status == 429);
    CHECK(Body(api)["error"] == "the password cache is full");
  }
  SUBCASE("a used password frees a place, and the store knows it by its SHA-256") {
    CHECK(*h.challenges->Use("ndes", Sha256Hex(passwords[2]), "CN=router1", kStart + 5) ==
          gateway::ChallengeUseResult::Accepted);
    CHECK(*h.challenges->Use("ndes", Sha256Hex(passwords[2]), "CN=router1", kStart + 6) ==
          gateway::ChallengeUseResult::AlreadyUsed);
    CHECK(ScrapePassword(h.Get("/certsrv/mscep_admin/")).has_value());
  }
  SUBCASE("expired passwords free the cache") {
    h.now = kStart + 61 * 60;
    CHECK(ScrapePassword(h.Get("/certsrv/mscep_admin/")).has_value());
  }
  // The audit trail says who fetched passwords, but never holds one.
  const std::string audit = test::ReadText(h.audit->path());
  CHECK(audit.find("challenge_issued") != std::string::npos);
  CHECK(audit.find("admin:alice") != std::string::npos);
  for (const auto& p : passwords) {
    CHECK(audit.find(p) == std::string::npos);
    CHECK(audit.find(Sha256Hex(p)) == std::string::npos);
  }
}

TEST_CASE("the NDES page picks the endpoint from ?endpoint=") {
  Harness h;
  const HttpResponse lab = h.Get("/certsrv/mscep_admin/?endpoint=lab");
  REQUIRE(ScrapePassword(lab).has_value());
  CHECK(DecodeAsciiPage(lab.body).find("will expire within 10 minutes.") != std::string::npos);
  CHECK(*h.challenges->Outstanding("lab", kStart) == 1);
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 0);
  // lab allows one outstanding password.
  CHECK(DecodeAsciiPage(h.Get("/certsrv/mscep_admin/?endpoint=lab").body).find("The password cache is full.") !=
        std::string::npos);
  CHECK(h.Get("/certsrv/mscep_admin/?endpoint=static").status == 404);
  CHECK(h.Get("/certsrv/mscep_admin/?endpoint=nope").status == 404);
  CHECK(h.Get("/certsrv/mscep_admin/other.asp").status == 404);
  CHECK(h.Post("/certsrv/mscep_admin/").status == 405);
}

TEST_CASE("require_tls refuses plain HTTP with 403 before looking at credentials") {
  Harness h(/*require_tls=*/true);
  const HttpResponse page = h.Get("/certsrv/mscep_admin/");
  CHECK(page.status == 403);
  CHECK(DecodeAsciiPage(page.body).find("You do not have sufficient permission") != std::string::npos);
  const HttpResponse api = h.Post("/api/v1/challenges");
  CHECK(api.status == 403);
  CHECK(Body(api)["error"].get<std::string>().find("HTTPS") != std::string::npos);
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 0);

  const HttpResponse over_tls = h.routes->Handle(MakeRequest("GET", "/certsrv/mscep_admin/", kAlice, "", true));
  CHECK(over_tls.status == 200);
  CHECK(ScrapePassword(over_tls).has_value());
}

TEST_CASE("POST /api/v1/challenges") {
  Harness h;
  const HttpResponse created = h.Post("/api/v1/challenges", R"({"endpoint": "lab", "subject_pattern": "^CN=r1$"})");
  REQUIRE(created.status == 201);
  const json body = Body(created);
  CHECK(body["endpoint"] == "lab");
  CHECK(std::regex_match(body["challenge"].get<std::string>(), std::regex("[0-9A-F]{16}")));
  CHECK(body["expires_at"] == "2023-11-14T22:23:20Z");  // kStart + 10 minutes
  const std::string hash = Sha256Hex(body["challenge"].get<std::string>());
  CHECK(*h.challenges->Use("lab", hash, "CN=other", kStart + 1) == gateway::ChallengeUseResult::SubjectMismatch);
  CHECK(*h.challenges->Use("lab", hash, "CN=r1", kStart + 1) == gateway::ChallengeUseResult::Accepted);

  CHECK(h.Post("/api/v1/challenges").status == 201);  // empty body: the first one-time endpoint
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 1);
  CHECK(h.Post("/api/v1/challenges", R"({"subject_pattern": "(unclosed"})").status == 400);
  CHECK(h.Post("/api/v1/challenges", R"({"endpoint": 5})").status == 400);
  CHECK(h.Post("/api/v1/challenges", "not json").status == 400);
  CHECK(h.Post("/api/v1/challenges", R"({"endpoint": "static"})").status == 404);
  CHECK(h.Get("/api/v1/challenges").status == 405);
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 1);
}

TEST_CASE("pending requests: list, show, approve, deny") {
  Harness h;
  const std::int64_t first = h.AddRequest("tx-1", "CN=router1");
  const std::int64_t second = h.AddRequest("tx-2", "CN=router2");

  const json all = Body(h.Get("/api/v1/requests"));
  REQUIRE(all.is_array());
  REQUIRE(all.size() == 2);
  CHECK(all[0]["id"] == first);
  CHECK(all[0]["transaction_id"] == "tx-1");
  CHECK(all[0]["status"] == "pending");
  CHECK(all[0]["created_at"] == "2023-11-14T22:13:20Z");
  CHECK(all[0]["decided_at"].is_null());
  CHECK(all[0]["csr"] == "-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n");

  h.now = kStart + 100;
  const HttpResponse approved = h.Post("/api/v1/requests/" + std::to_string(first) + "/approve");
  REQUIRE(approved.status == 200);
  CHECK(Body(approved)["status"] == "approved");
  CHECK(Body(approved)["decided_by"] == "admin:alice");
  CHECK(h.requests->FindById(first)->value().status == gateway::RequestStatus::Approved);

  const HttpResponse denied =
      h.Post("/api/v1/requests/" + std::to_string(second) + "/deny", R"({"reason": "unknown device"})");
  REQUIRE(denied.status == 200);
  const auto stored = h.requests->FindById(second)->value();
  CHECK(stored.status == gateway::RequestStatus::Denied);
  CHECK(stored.reason == "unknown device");
  CHECK(stored.decided_by == "admin:alice");
  CHECK(stored.decided_at == kStart + 100);

  const HttpResponse again = h.Post("/api/v1/requests/" + std::to_string(first) + "/deny");
  CHECK(again.status == 409);
  CHECK(Body(again)["status"] == "approved");
  CHECK(h.requests->FindById(first)->value().status == gateway::RequestStatus::Approved);

  CHECK(h.Post("/api/v1/requests/999/approve").status == 404);
  CHECK(h.Post("/api/v1/requests/abc/approve").status == 404);
  CHECK(h.Get("/api/v1/requests/999").status == 404);
  CHECK(Body(h.Get("/api/v1/requests/" + std::to_string(second)))["reason"] == "unknown device");
  CHECK(h.Post("/api/v1/requests/" + std::to_string(second) + "/deny", "[1]").status == 400);
  CHECK(h.Get("/api/v1/requests/1/approve").status == 405);
  CHECK(h.Get("/api/v1/nothing").status == 404);

  const json pending = Body(h.Get("/api/v1/requests?status=pending"));
  CHECK(pending.empty());
  const json only_denied = Body(h.Get("/api/v1/requests?status=denied"));
  REQUIRE(only_denied.size() == 1);
  CHECK(only_denied[0]["id"] == second);
  CHECK(h.Get("/api/v1/requests?status=bogus").status == 400);

  const auto audit = AuditLines(h.audit->path());
  int approvals = 0, denials = 0;
  for (const auto& line : audit) {
    if (line["event"] == "approved") {
      ++approvals;
      CHECK(line["transaction_id"] == "tx-1");
      CHECK(line["actor"] == "admin:alice");
    }
    if (line["event"] == "denied") {
      ++denials;
      CHECK(line["reason"] == "unknown device");
      CHECK(line["subject"] == "CN=router2");
    }
  }
  CHECK(approvals == 1);
  CHECK(denials == 1);
}

TEST_CASE("revoking a certificate through the API") {
  Harness h;
  gateway::IssuedCert cert;
  cert.serial = "0A1B2C3D";
  cert.issuer = "CN=Test CA";
  cert.subject = "CN=router9";
  cert.not_before = kStart;
  cert.not_after = kStart + 86400;
  cert.issued_at = kStart;
  cert.transaction_id = "tx-9";
  cert.request_fingerprint = std::string(64, 'c');
  cert.message_type = "PKCSReq";
  cert.der = {0x30, 0x00};
  REQUIRE(h.certs->Put(cert).ok());

  const json listed = Body(h.Get("/api/v1/certificates"));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["serial"] == "0A1B2C3D");
  CHECK(listed[0]["status"] == "issued");
  CHECK_FALSE(listed[0].contains("der"));

  CHECK(h.Post("/api/v1/certificates/0a1b2c3d/revoke", R"({"reason": "removeFromCRL"})").status == 400);
  CHECK(h.Post("/api/v1/certificates/FFFF/revoke", R"({"reason": "keyCompromise"})").status == 404);
  CHECK(h.revocations_seen == 0);

  h.now = kStart + 500;
  const HttpResponse revoked = h.Post("/api/v1/certificates/0a1b2c3d/revoke", R"({"reason": "keyCompromise"})");
  REQUIRE(revoked.status == 200);
  CHECK(Body(revoked)["revocation_reason"] == "keyCompromise");
  CHECK(h.revocations_seen == 1);
  const auto stored = h.certs->FindBySerial("0A1B2C3D")->value();
  CHECK(stored.status == gateway::CertStatus::Revoked);
  CHECK(stored.revocation_reason == 1);
  CHECK(stored.revoked_at == kStart + 500);

  CHECK(h.Post("/api/v1/certificates/0A1B2C3D/revoke", R"({"reason": "superseded"})").status == 409);
  CHECK(h.certs->FindBySerial("0A1B2C3D")->value().revocation_reason == 1);
  CHECK(h.revocations_seen == 1);
  CHECK(Body(h.Get("/api/v1/certificates?status=revoked")).size() == 1);
  CHECK(Body(h.Get("/api/v1/certificates?status=issued")).empty());

  int events = 0;
  for (const auto& line : AuditLines(h.audit->path())) {
    if (line["event"] != "revoked") continue;
    ++events;
    CHECK(line["serial"] == "0A1B2C3D");
    CHECK(line["reason"] == "keyCompromise");
    CHECK(line["actor"] == "admin:alice");
  }
  CHECK(events == 1);
}

TEST_CASE("changes to the users file take effect without a restart") {
  Harness h;
  const Login bob{"bob", "s3cret-bob"};
  CHECK(h.Get("/api/v1/requests").status == 200);  // alice's login is now remembered
  CHECK(h.Get("/api/v1/requests", bob).status == 401);

  REQUIRE(gateway::AddAdminUser(h.users_file, bob.user, bob.password).ok());
  CHECK(h.Get("/api/v1/requests", bob).status == 200);

  REQUIRE(gateway::RemoveAdminUser(h.users_file, kAlice.user).ok());
  CHECK(h.Get("/api/v1/requests").status == 401);
  CHECK(h.Get("/api/v1/requests", bob).status == 200);

  REQUIRE(gateway::AddAdminUser(h.users_file, bob.user, "a new password").ok());
  CHECK(h.Get("/api/v1/requests", bob).status == 401);
  CHECK(h.Get("/api/v1/requests", Login{"bob", "a new password"}).status == 200);
}
