// What the decision-loop suites (gateway_decision_test, gateway_revocation_test) share: their devices, the admin
// user they act as on the CLI and the JSON API, and reading the audit file.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/gateway_process.h"
#include "tests/support/issued_cert_checks.h"
#include "tests/support/scep_test_client.h"

namespace test::decision {

inline const std::string kChallenge = "test-challenge";  // GatewayOptions' default --challenge
inline const std::string kAdmin = "approver";
inline const std::string kAdminPassword = "approver password";

inline test::Device Device(const std::string& cn, const std::string& sans = {}, const std::string& challenge = kChallenge) {
  auto d =
      test::MakeDevice({.subject = {{"O", "Integration Tests"}, {"CN", cn}}, .sans = sans, .challenge = challenge});
  REQUIRE(d.error == "");
  return d;
}

inline int AddUser(const std::filesystem::path& data_dir, std::string* out) {
  std::filesystem::create_directories(data_dir);
  return test::Run("printf '%s\\n' '" + kAdminPassword + "' | '" + test::GatewayBinary().string() + "' users add " +
                       kAdmin + " --data-dir '" + data_dir.string() + "'",
                   out);
}

struct ApiReply {
  int status = 0;
  nlohmann::json body;
};

inline ApiReply Api(std::uint16_t port, const std::string& method, const std::string& target, const std::string& body = {}) {
  gateway::HttpClientOptions options;
  options.headers = {{"Authorization", test::BasicAuthorization(kAdmin, kAdminPassword)}};
  gateway::HttpClient http("127.0.0.1", port, options);
  auto resp = method == "GET" ? http.Get(target) : http.Post(target, body, "application/json");
  if (!resp) return {-1, nlohmann::json{{"transport_error", resp.error().ToString()}}};
  return {resp->status, nlohmann::json::parse(resp->body, nullptr, false)};
}

// The id `requests list` shows for a transaction (it prints the first 20 characters of the transactionID); 0 if none.
inline std::int64_t RequestId(const std::string& listing, const std::string& transaction_id) {
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(transaction_id.substr(0, 20)) != std::string::npos) return std::atoll(line.c_str());
  }
  return 0;
}

inline std::vector<nlohmann::json> AuditLines(const std::filesystem::path& data_dir, std::string* raw = nullptr) {
  const std::string text = test::ReadText(data_dir / "audit.jsonl");
  if (raw != nullptr) *raw = text;
  std::vector<nlohmann::json> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line, nullptr, false));
  return out;
}

inline std::string Field(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace test::decision
