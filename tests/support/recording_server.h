// An HttpServer for tests whose handler records the last request and answers "ok" (or what `respond` says).
// Plain HTTP, or HTTPS when the options carry TLS files.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http_server.h"

namespace test {

class RecordingServer {
 public:
  explicit RecordingServer(gateway::HttpServerOptions options = {}, gateway::HttpHandler respond = nullptr)
      : respond_(std::move(respond)),
        server_(OnLoopback(std::move(options)), [this](const gateway::HttpRequest& r) { return Handle(r); }) {
    const auto started = server_.Start();
    REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().ToString()));
  }

  gateway::HttpRequest last() {
    std::lock_guard lock(mutex_);
    REQUIRE(last_.has_value());
    return *last_;
  }
  std::uint16_t port() const { return server_.port(); }
  gateway::HttpServer& server() { return server_; }

 private:
  static gateway::HttpServerOptions OnLoopback(gateway::HttpServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    return options;
  }
  gateway::HttpResponse Handle(const gateway::HttpRequest& request) {
    {
      std::lock_guard lock(mutex_);
      last_ = request;
    }
    if (respond_) return respond_(request);
    gateway::HttpResponse response;
    response.body = "ok";
    return response;
  }

  gateway::HttpHandler respond_;
  std::mutex mutex_;
  std::optional<gateway::HttpRequest> last_;
  gateway::HttpServer server_;
};

// Text made of base64 characters, for long URLs and bodies.
inline std::string Base64Like(std::size_t size) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(size, 'A');
  for (std::size_t i = 0; i < size; ++i) out[i] = kAlphabet[(i * 7 + i / 64) % kAlphabet.size()];
  return out;
}

inline bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace test
