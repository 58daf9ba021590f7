// PolicyWebhook against tests/support/webhook_server.py running as a real child process.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/policy_webhook.h"
#include "tests/support/gateway_process.h"
#include "tests/support/test_files.h"
#include "tests/support/webhook_server.h"

using gateway::Decision;
using nlohmann::json;

namespace {

config::WebhookConfig Config(const std::string& url, int retries = 2, int timeout = 2,
                             const std::string& on_unavailable = "deny") {
  config::WebhookConfig c;
  c.url = url;
  c.retries = retries;
  c.timeout_seconds = timeout;
  c.on_unavailable = on_unavailable;
  return c;
}

gateway::WebhookQuestion Question() {
  gateway::WebhookQuestion q;
  q.endpoint = "devices";
  q.transaction_id = "tx-42";
  q.message_type = "PKCSReq";
  q.subject = "CN=host1.corp.example,O=Example";
  q.sans = {"DNS:host1.corp.example", "IP:10.0.0.7"};
  q.key_type = "RSA";
  q.key_bits = 2048;
  q.key_usage = {"digitalSignature", "keyEncipherment"};
  q.challenge = "s3cret";
  q.client_address = "192.0.2.10";
  q.renewal = true;
  q.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
  return q;
}

// The requests the server recorded, one JSON object each.
std::vector<json> Recorded(const std::filesystem::path& file) {
  std::vector<json> out;
  std::istringstream in(test::ReadText(file));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("the hook's decision and reason are followed") {
  for (const char* decision : {"issue", "deny", "pend"}) {
    CAPTURE(decision);
    test::WebhookServer server({"--decision", decision});
    const auto answer = gateway::PolicyWebhook(Config(server.url())).Ask(Question());
    CHECK(gateway::to_string(answer.decision) == decision);
    CHECK(answer.reason == std::string("hook says ") + decision);
    CHECK_FALSE(answer.unavailable);
  }
}

TEST_CASE("the hook receives the request's facts as JSON") {
  test::TempDir dir;
  const auto record = dir / "requests.jsonl";
  test::WebhookServer server({"--record", record.string()});
  const auto answer = gateway::PolicyWebhook(Config(server.url("/decide?site=lab"))).Ask(Question());
  CHECK(answer.decision == Decision::Issue);
  const auto requests = Recorded(record);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["path"] == "/decide?site=lab");
  CHECK(requests[0]["content_type"] == "application/json");
  const json body = json::parse(requests[0]["body"].get<std::string>());
  const auto q = Question();
  CHECK(body["endpoint"] == q.endpoint);
  CHECK(body["transaction_id"] == q.transaction_id);
  CHECK(body["message_type"] == q.message_type);
  CHECK(body["subject"] == q.subject);
  CHECK(body["sans"] == json(q.sans));
  CHECK(body["key_type"] == "RSA");
  CHECK(body["key_bits"] == 2048);
  CHECK(body["key_usage"] == json(q.key_usage));
  CHECK(body["challenge"] == "s3cret");
  CHECK(body["client_address"] == "192.0.2.10");
  CHECK(body["renewal"] == true);
  CHECK(body["csr"] == q.csr_pem);
}

TEST_CASE("5xx answers are retried; when every attempt fails on_unavailable applies") {
  test::TempDir dir;
  const auto record = dir / "requests.jsonl";
  {
    test::WebhookServer server({"--fail", "2", "--decision", "deny", "--record", record.string()});
    const auto answer = gateway::PolicyWebhook(Config(server.url(), 2)).Ask(Question());
    CHECK(answer.decision == Decision::Deny);
    CHECK(answer.reason == "hook says deny");
    CHECK_FALSE(answer.unavailable);
    CHECK(Recorded(record).size() == 3);
  }
  std::filesystem::remove(record);
  test::WebhookServer server({"--fail", "3", "--record", record.string()});
  const auto answer = gateway::PolicyWebhook(Config(server.url(), 2, 2, "pend")).Ask(Question());
  CHECK(answer.decision == Decision::Pend);
  CHECK(answer.unavailable);
  CHECK(answer.reason == "webhook unavailable: HTTP 500");
  CHECK(Recorded(record).size() == 3);
}

TEST_CASE("a 4xx answer is not retried and counts as unavailable") {
  test::TempDir dir;
  const auto record = dir / "requests.jsonl";
  test::WebhookServer server({"--status", "403", "--record", record.string()});
  const auto answer = gateway::PolicyWebhook(Config(server.url(), 3, 2, "issue")).Ask(Question());
  CHECK(answer.decision == Decision::Issue);
  CHECK(answer.unavailable);
  CHECK(answer.reason == "webhook unavailable: HTTP 403");
  CHECK(Recorded(record).size() == 1);
}

TEST_CASE("an unparsable answer or an unknown decision is retried, then unavailable") {
  test::TempDir dir;
  const auto record = dir / "requests.jsonl";
  {
    test::WebhookServer server({"--body", "this is not json", "--record", record.string()});
    const auto answer = gateway::PolicyWebhook(Config(server.url(), 1)).Ask(Question());
    CHECK(answer.decision == Decision::Deny);
    CHECK(answer.unavailable);
    CHECK(answer.reason == "webhook unavailable: answer is not a JSON object");
    CHECK(Recorded(record).size() == 2);
  }
  test::WebhookServer server({"--decision", "maybe"});
  const auto answer = gateway::PolicyWebhook(Config(server.url(), 0, 2, "pend")).Ask(Question());
  CHECK(answer.decision == Decision::Pend);
  CHECK(answer.reason == "webhook unavailable: unknown decision 'maybe'");
}

TEST_CASE("a hook slower than the timeout, or not listening at all, is unavailable") {
  {
    test::WebhookServer server({"--sleep", "4"});
    const auto start = std::chrono::steady_clock::now();
    const auto answer = gateway::PolicyWebhook(Config(server.url(), 1, 1, "issue")).Ask(Question());
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(answer.decision == Decision::Issue);
    CHECK(answer.unavailable);
    CHECK(answer.reason.starts_with("webhook unavailable: "));
    CHECK(elapsed >= std::chrono::seconds(2));  // two attempts of a one-second timeout
    CHECK(elapsed < std::chrono::seconds(4));
  }
  const std::string nobody = "http://127.0.0.1:" + std::to_string(test::FreeLoopbackPort()) + "/hook";
  const auto answer = gateway::PolicyWebhook(Config(nobody, 1)).Ask(Question());
  CHECK(answer.decision == Decision::Deny);
  CHECK(answer.unavailable);
  CHECK(answer.reason.find("cannot connect") != std::string::npos);

  const auto invalid = gateway::PolicyWebhook(Config("ftp://example/hook", 1, 1, "pend")).Ask(Question());
  CHECK(invalid.decision == Decision::Pend);
  CHECK(invalid.unavailable);
}

TEST_CASE("webhook URLs are taken apart for the HTTP client") {
  auto u = gateway::ParseWebhookUrl("https://[::1]/x/y?z=1#frag");
  REQUIRE(u.has_value());
  CHECK(u->tls);
  CHECK(u->host == "::1");
  CHECK(u->port == 443);
  CHECK(u->target == "/x/y?z=1");
  u = gateway::ParseWebhookUrl("http://hooks.example");
  REQUIRE(u.has_value());
  CHECK_FALSE(u->tls);
  CHECK(u->host == "hooks.example");
  CHECK(u->port == 80);
  CHECK(u->target == "/");
  u = gateway::ParseWebhookUrl("http://10.0.0.1:8080?q=1");
  REQUIRE(u.has_value());
  CHECK(u->port == 8080);
  CHECK(u->target == "/?q=1");
  u = gateway::ParseWebhookUrl("https://[2001:db8::5]:8443/h");
  REQUIRE(u.has_value());
  CHECK(u->host == "2001:db8::5");
  CHECK(u->port == 8443);
  for (const char* bad : {"ftp://x/", "http://", "http://h:0/", "http://h:99999/", "http://[::1/", "http://u@h/",
                          "http://h:80x/", "hooks.example/x"}) {
    CAPTURE(bad);
    CHECK_FALSE(gateway::ParseWebhookUrl(bad).has_value());
  }
}
