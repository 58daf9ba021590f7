// AuditLog: the JSON-lines file in a real temp dir, and notification delivery to webhook_server.py child processes.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/audit_log.h"
#include "tests/support/gateway_process.h"
#include "tests/support/test_files.h"
#include "tests/support/webhook_server.h"

using nlohmann::json;

namespace {

std::vector<std::string> Lines(const std::filesystem::path& file) {
  std::vector<std::string> out;
  std::istringstream in(test::ReadText(file));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The bodies a --record server received, in order.
std::vector<std::string> Delivered(const std::filesystem::path& record) {
  std::vector<std::string> out;
  for (const auto& line : Lines(record)) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(j["body"].get<std::string>());  // skips a line the server is still writing
  }
  return out;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

std::unique_ptr<gateway::AuditLog> OpenLog(const std::filesystem::path& dir, std::vector<std::string> webhooks = {}) {
  config::NotificationsConfig notifications;
  notifications.webhooks = std::move(webhooks);
  notifications.retry_seconds = 1;
  auto log = gateway::AuditLog::Open(dir, notifications);
  REQUIRE_MESSAGE(log.ok(), (log.ok() ? "" : log.error().ToString()));
  return std::move(*log);
}

gateway::AuditEvent Issued(const std::string& serial) {
  gateway::AuditEvent e;
  e.event = "issued";
  e.endpoint = "default";
  e.transaction_id = "tx-" + serial;
  e.serial = serial;
  e.subject = "CN=host1.corp.example";
  e.actor = "policy";
  return e;
}

void Record(gateway::AuditLog& log, const gateway::AuditEvent& e) {
  const auto r = log.Record(e);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().ToString()));
}

}  // namespace

TEST_CASE("each event is one JSON line with its non-empty fields, in a 0600 file") {
  test::TempDir dir;
  auto log = OpenLog(dir.path());
  gateway::AuditEvent full;
  full.event = "denied";
  full.time = 1700000000;
  full.endpoint = "devices";
  full.transaction_id = "tx1";
  full.request_id = 17;
  full.serial = "0A1B";
  full.subject = "CN=evil";
  full.sans = "DNS:evil.example";
  full.reason = "policy: subject CN 'evil' does not match ^ok$";
  full.actor = "policy";
  full.client_address = "192.0.2.1";
  Record(*log, full);
  gateway::AuditEvent bare;
  bare.event = "revoked";
  Record(*log, bare);

  const auto lines = Lines(dir / "audit.jsonl");
  REQUIRE(lines.size() == 2);
  const json first = json::parse(lines[0]);
  CHECK(first["event"] == "denied");
  CHECK(first["time"] == "2023-11-14T22:13:20Z");
  CHECK(first["endpoint"] == "devices");
  CHECK(first["transaction_id"] == "tx1");
  CHECK(first["request_id"] == 17);
  CHECK(first["serial"] == "0A1B");
  CHECK(first["subject"] == "CN=evil");
  CHECK(first["sans"] == "DNS:evil.example");
  CHECK(first["reason"] == full.reason);
  CHECK(first["actor"] == "policy");
  CHECK(first["client_address"] == "192.0.2.1");
  const json second = json::parse(lines[1]);
  CHECK(second.size() == 2);  // event and time only
  CHECK(std::regex_match(second["time"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));

  struct stat st{};
  REQUIRE(::stat((dir / "audit.jsonl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("the file survives reopening, and two logs on one file (gateway and CLI) keep every line whole") {
  test::TempDir dir;
  {
    auto log = OpenLog(dir.path());
    Record(*log, Issued("01"));
    Record(*log, Issued("02"));
  }
  auto gateway_log = OpenLog(dir.path());
  auto cli_log = OpenLog(dir.path());  // a second descriptor, as a CLI process would have
  Record(*gateway_log, Issued("03"));
  CHECK(Lines(dir / "audit.jsonl").size() == 3);

  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  const std::string padding(700, 'x');  // long lines make torn writes visible
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& log = t % 2 == 0 ? *gateway_log : *cli_log;
      for (int i = 0; i < kPerThread; ++i) {
        auto e = Issued(std::to_string(t) + "-" + std::to_string(i));
        e.reason = padding;
        if (!log.Record(e).ok()) return;
      }
    });
  }
  for (auto& t : threads) t.join();

  const auto lines = Lines(dir / "audit.jsonl");
  REQUIRE(lines.size() == 3 + kThreads * kPerThread);
  CHECK(json::parse(lines[0])["serial"] == "01");
  CHECK(json::parse(lines[2])["serial"] == "03");
  std::vector<int> per_thread(kThreads, 0);
  for (std::size_t i = 3; i < lines.size(); ++i) {
    const json j = json::parse(lines[i], nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j["reason"] == padding);
    ++per_thread[std::stoi(j["serial"].get<std::string>())];
  }
  CHECK(per_thread == std::vector<int>(kThreads, kPerThread));
}

TEST_CASE("notification webhooks receive every line in order, including lines other processes wrote") {
  test::TempDir dir;
  const auto record = dir / "received.jsonl";
  test::WebhookServer server({"--record", record.string()});
  auto log = OpenLog(dir / "data", {server.url("/events")});
  for (const char* serial : {"01", "02", "03"}) Record(*log, Issued(serial));
  REQUIRE(WaitFor([&] { return Delivered(record).size() >= 3; }, std::chrono::seconds(5)));
  CHECK(Delivered(record) == Lines(dir / "data" / "audit.jsonl"));
  const json first = json::parse(Lines(record)[0]);
  CHECK(first["path"] == "/events");
  CHECK(first["content_type"] == "application/json");

  auto cli_log = OpenLog(dir / "data");  // no webhooks: only appends
  Record(*cli_log, Issued("04"));
  REQUIRE(WaitFor([&] { return Delivered(record).size() >= 4; }, std::chrono::seconds(5)));
  CHECK(Delivered(record) == Lines(dir / "data" / "audit.jsonl"));

  const auto offset_file = dir / "data" / gateway::NotifyOffsetFileName(server.url("/events"));
  REQUIRE(std::filesystem::exists(offset_file));
  // Saved just after the server answered, so it may trail the server's record for a moment.
  CHECK(WaitFor([&] { return std::stoull(test::ReadText(offset_file)) ==
                             std::filesystem::file_size(dir / "data" / "audit.jsonl"); },
                std::chrono::seconds(2)));
}

TEST_CASE("a webhook that is down at first gets the events once it is up") {
  test::TempDir dir;
  const auto record = dir / "received.jsonl";
  const std::uint16_t port = test::FreeLoopbackPort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/events";
  auto log = OpenLog(dir / "data", {url});
  Record(*log, Issued("01"));
  Record(*log, Issued("02"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // at least one failed attempt and one retry
  CHECK_FALSE(std::filesystem::exists(record));

  test::WebhookServer server({"--port", std::to_string(port), "--record", record.string()});
  REQUIRE(WaitFor([&] { return Delivered(record).size() >= 2; }, std::chrono::seconds(5)));
  CHECK(Delivered(record) == Lines(dir / "data" / "audit.jsonl"));
}

TEST_CASE("delivery resumes from the saved offset after a restart, without repeating delivered lines") {
  test::TempDir dir;
  const auto record = dir / "received.jsonl";
  test::WebhookServer server({"--record", record.string()});
  const auto data = dir / "data";
  {
    auto log = OpenLog(data, {server.url()});
    Record(*log, Issued("01"));
    Record(*log, Issued("02"));
    REQUIRE(WaitFor([&] { return Delivered(record).size() >= 2; }, std::chrono::seconds(5)));
  }
  {
    auto cli_log = OpenLog(data);  // written while no gateway delivers
    Record(*cli_log, Issued("03"));
  }
  auto log = OpenLog(data, {server.url()});
  Record(*log, Issued("04"));
  REQUIRE(WaitFor([&] { return Delivered(record).size() >= 4; }, std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // time for any duplicate to show up
  CHECK(Delivered(record) == Lines(data / "audit.jsonl"));
}

TEST_CASE("a failing webhook does not hold up another one, and destruction does not wait for its retry") {
  test::TempDir dir;
  const auto good_record = dir / "good.jsonl";
  const auto bad_record = dir / "bad.jsonl";
  test::WebhookServer good({"--record", good_record.string()});
  test::WebhookServer bad({"--status", "503", "--record", bad_record.string()});
  config::NotificationsConfig notifications;
  notifications.webhooks = {bad.url(), good.url()};
  notifications.retry_seconds = 30;
  auto opened = gateway::AuditLog::Open(dir / "data", notifications);
  REQUIRE(opened.ok());
  auto log = std::move(*opened);
  Record(*log, Issued("01"));
  Record(*log, Issued("02"));
  REQUIRE(WaitFor([&] { return Delivered(good_record).size() >= 2; }, std::chrono::seconds(5)));
  CHECK(Delivered(bad_record).size() == 1);  // the first line, refused; the next try is 30 s away

  const auto start = std::chrono::steady_clock::now();
  log.reset();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}
