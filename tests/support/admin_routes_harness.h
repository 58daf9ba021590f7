// The in-process AdminRoutes harness shared by admin_routes_test and admin_decisions_test: real SQLite stores,
// a real users file and a real audit log in a temp dir, and the HTTP helpers a scraper or API client would use.
#pragma once

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

namespace admin_test {

using gateway::AdminRoutes;
using gateway::HttpRequest;
using gateway::HttpResponse;
using nlohmann::json;

inline constexpr std::int64_t kStart = 1'700'000'000;
inline constexpr char kThumbprint[] = "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3";

inline std::string Base64(const std::string& in) {
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

inline std::string Sha256Hex(const std::string& text) {
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
inline std::string DecodeAsciiPage(const std::string& body) {
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
inline std::optional<std::string> ScrapePassword(const HttpResponse& response) {
  const std::string html = DecodeAsciiPage(response.body);
  std::smatch match;
  if (!std::regex_search(html, match, std::regex("The enrollment challenge password is: <B> ([0-9A-F]+) </B>"))) {
    return std::nullopt;
  }
  return match[1].str();
}

inline std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

struct Login {
  std::string user;
  std::string password;
};

inline HttpRequest MakeRequest(const std::string& method, const std::string& target,
                               const std::optional<Login>& login, const std::string& body = "", bool tls = false) {
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

inline json Body(const HttpResponse& response) {
  CHECK(response.content_type == "application/json");
  return json::parse(response.body);
}

inline std::vector<json> AuditLines(const std::filesystem::path& path) {
  std::vector<json> lines;
  std::istringstream in(test::ReadText(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

inline const Login kAlice{"alice", "correct horse battery"};

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


}  // namespace admin_test
