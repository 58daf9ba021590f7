#include "gateway/policy_webhook.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <exception>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "gateway/http_client.h"

namespace gateway {
namespace {

using nlohmann::json;

std::optional<Decision> ParseDecision(std::string_view text) {
  if (text == "issue") return Decision::Issue;
  if (text == "deny") return Decision::Deny;
  if (text == "pend") return Decision::Pend;
  return std::nullopt;
}

std::string QuestionJson(const WebhookQuestion& q) {
  json body = {
      {"endpoint", q.endpoint},         {"transaction_id", q.transaction_id}, {"message_type", q.message_type},
      {"subject", q.subject},           {"sans", q.sans},                     {"key_type", q.key_type},
      {"key_bits", q.key_bits},         {"key_usage", q.key_usage},           {"challenge", q.challenge},
      {"client_address", q.client_address}, {"renewal", q.renewal},           {"csr", q.csr_pem},
  };
  // replace: a CSR may carry bytes that are not UTF-8; the hook gets U+FFFD rather than the gateway an exception.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One attempt's outcome: an answer, or why there is none and whether another attempt may help.
struct Attempt {
  std::optional<WebhookAnswer> answer;
  std::string error;
  bool retry = true;
};

Attempt ReadAnswer(const HttpClientResponse& response) {
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status >= 500) return {std::nullopt, status, true};
  if (response.status < 200 || response.status > 299) return {std::nullopt, status, false};  // the hook said no
  const json body = json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return {std::nullopt, "answer is not a JSON object", true};
  const auto decision = body.find("decision");
  if (decision == body.end() || !decision->is_string()) return {std::nullopt, "answer has no \"decision\"", true};
  const auto parsed = ParseDecision(decision->get<std::string>());
  if (!parsed) return {std::nullopt, "unknown decision '" + decision->get<std::string>() + "'", true};
  WebhookAnswer answer;
  answer.decision = *parsed;
  if (const auto reason = body.find("reason"); reason != body.end() && reason->is_string()) {
    answer.reason = reason->get<std::string>();
  }
  return {std::move(answer), "", false};
}

Attempt AskOnce(const WebhookUrl& url, const std::string& body, std::chrono::seconds timeout) {
  HttpClientOptions options;
  options.timeout = timeout;
  options.tls = url.tls;
  HttpClient client(url.host, url.port, options);
  auto response = client.Post(url.target, body, "application/json");
  if (!response) return {std::nullopt, response.error().detail, true};
  return ReadAnswer(*response);
}

}  // namespace

std::optional<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  WebhookUrl out;
  if (url.starts_with("https://")) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  url = url.substr(0, url.find('#'));
  const auto path_start = url.find_first_of("/?");
  std::string_view authority = url.substr(0, path_start);
  out.target = path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no credentials in hook URLs
  std::string_view port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(":")) return std::nullopt;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  out.port = out.tls ? 443 : 80;
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

PolicyWebhook::PolicyWebhook(config::WebhookConfig config) : config_(std::move(config)) {}

WebhookAnswer PolicyWebhook::Ask(const WebhookQuestion& question) const {
  std::string last_error = "invalid webhook URL " + config_.url;
  try {
    const auto url = ParseWebhookUrl(config_.url);
    const std::string body = url ? QuestionJson(question) : "";
    const auto timeout = std::chrono::seconds(std::max(1, config_.timeout_seconds));
    for (int attempt = 0; url && attempt <= config_.retries; ++attempt) {
      // A short, growing pause: a hook that just restarted gets a moment, a caller is not held for long.
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      Attempt result = AskOnce(*url, body, timeout);
      if (result.answer) return std::move(*result.answer);
      last_error = std::move(result.error);
      if (!result.retry) break;
    }
  } catch (const std::exception& e) {  // allocation failures and the like: still an answer, never a throw
    last_error = e.what();
  }
  WebhookAnswer answer;
  answer.decision = ParseDecision(config_.on_unavailable).value_or(Decision::Deny);
  answer.reason = "webhook unavailable: " + last_error;
  answer.unavailable = true;
  return answer;
}

}  // namespace gateway
