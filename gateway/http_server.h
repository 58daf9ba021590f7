// The HTTP/1.1 transport of the gateway: accepts connections, parses requests within fixed limits, hands each
// request to a handler on a worker pool and writes back what the handler returns. It knows nothing of SCEP.
// One instance serves one listener, either plain HTTP or HTTPS (see HttpServerOptions::tls).
//
// Boost.Beast stays out of this header (pimpl): Beast is slow to compile and only http_server.cpp and
// http_connection.cpp need it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scep/result.h"

namespace gateway {

struct HttpRequest {
  std::string method;          // "GET", "POST", ...
  std::string target;          // raw request-target as received
  std::string path;            // target before '?', percent-decoded
  std::string query;           // raw query string after '?', NOT decoded
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string remote_address;  // peer IP
  unsigned version = 11;       // 10 or 11
  bool tls = false;            // arrived over HTTPS: handlers that must not serve plain HTTP check this

  // The value of the first header with this (lower-case) name, or "" if absent.
  [[nodiscard]] std::string_view header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Runs on a worker thread and may block (e.g. on a durable database commit). It should not throw; if it does,
// the client gets 500 "internal error".
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// PEM files for an HTTPS listener, loaded by HttpServer::Start(). The key must not be encrypted.
struct TlsFiles {
  std::string cert_file;  // certificate chain, leaf first
  std::string key_file;   // private key of the leaf
};

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0 = pick a free one (see HttpServer::port())
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_url_bytes = 64 * 1024;  // request-target limit; header block limit = this + 16 KiB
  int io_threads = 2;
  int worker_threads = 32;
  std::chrono::seconds read_timeout{30};  // whole request must arrive within this, else the connection is closed
  int backlog = 1024;
  // Set: this listener speaks HTTPS only (TLS 1.2 or newer; the handshake must finish within read_timeout).
  // Unset: plain HTTP, which is what most SCEP clients use.
  std::optional<TlsFiles> tls;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // stops if running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the TLS files if any, binds, listens and starts the I/O and worker threads. Fails (unreadable or
  // mismatched certificate and key, address in use, bad host, ...) as a value.
  // Call at most once.
  [[nodiscard]] scep::Result<void> Start();
  // The bound port (useful with options.port == 0); 0 before a successful Start().
  [[nodiscard]] std::uint16_t port() const;
  // Stops accepting; requests already in the handler finish and get their reply (waits up to 10 s for them),
  // idle and half-received connections are closed, then all threads are joined. Idempotent; safe to call from
  // any thread except the server's own I/O and worker threads (it joins them). A handler that never returns
  // keeps Stop() waiting for the worker pool: handlers must be bounded.
  void Stop();
  // Blocks until Stop() has completed.
  void Wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gateway
