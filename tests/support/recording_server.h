// An HttpServer for tests whose handler records the last request and answers "ok" (or what `respond` says).
// Plain HTTP, or HTTPS when the options carry TLS files.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <mutex>
#include <optional>

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

}  // namespace test
