#include "gateway/request_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace gateway {
namespace {

bool g_json = false;
std::shared_ptr<spdlog::logger> g_json_requests;  // JSON mode: writes each request object as the whole line

// %* in a pattern: the message as the inside of a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string quoted = nlohmann::json(std::string(msg.payload.data(), msg.payload.size())).dump();
    dest.append(quoted.data() + 1, quoted.data() + quoted.size() - 1);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonEscapedMessage>(); }
};

std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(us));
  return buf;
}

const char* Dash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

}  // namespace

void ConfigureLogging(const config::LogConfig& log) {
  g_json = log.format == "json";
  spdlog::set_level(spdlog::level::from_str(log.level));
  if (!g_json) return;
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
      R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","message":"%*"})");
  auto default_logger = spdlog::default_logger();
  default_logger->set_formatter(std::move(formatter));
  // Formatters live in sinks, so the request logger needs a sink of its own (stdout sinks share one mutex).
  g_json_requests = std::make_shared<spdlog::logger>("requests", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  g_json_requests->set_level(default_logger->level());
  g_json_requests->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
}

void LogRequest(const RequestLogEntry& e) {
  const auto level = e.http_status >= 500 ? spdlog::level::err : spdlog::level::info;
  if (!spdlog::should_log(level)) return;
  if (!g_json) {
    spdlog::log(level, "{} {} op={} status={} type={} txid={} outcome={}{}{} subject={} serial={} ms={:.1f}{}{}",
                e.remote_address, e.method, Dash(e.operation), e.http_status, Dash(e.message_type),
                Dash(e.transaction_id), Dash(e.outcome), e.fail_info.empty() ? "" : " failInfo=", e.fail_info,
                Dash(e.subject), Dash(e.serial), e.ms, e.reason.empty() ? "" : " reason=", e.reason);
    return;
  }
  // One JSON object per request, its fields at the top level beside time and level.
  nlohmann::json j{{"time", UtcNow()}, {"level", spdlog::level::to_string_view(level).data()},
                   {"remote_address", e.remote_address}, {"method", e.method},       {"operation", e.operation},
                   {"http_status", e.http_status},       {"messageType", e.message_type},
                   {"transactionID", e.transaction_id},  {"outcome", e.outcome},     {"failInfo", e.fail_info},
                   {"subject", e.subject},               {"serial", e.serial},       {"reason", e.reason},
                   {"ms", e.ms}};
  g_json_requests->log(level, "{}", j.dump());
}

}  // namespace gateway
