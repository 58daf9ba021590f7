// A small blocking HTTP/1.1 client (optionally over TLS) for tests, benchmarks, the healthcheck and webhooks. One
// persistent keep-alive connection per client, opened on first use and reopened when the server has closed it.
// Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scep/result.h"

namespace gateway {

struct HttpClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpClientOptions {
  std::chrono::seconds timeout{30};  // bounds each request as a whole: connect, TLS handshake, send and receive
  bool tls = false;                  // https: the server's certificate must match `host` (DNS name or IP address)
  std::string ca_file;               // PEM file of CAs to verify the server against; "" = the system's CAs
  bool insecure = false;             // TLS without verifying the server: for tests and local healthchecks only
  // Sent with every request, e.g. {"Authorization", "Basic ..."} for the admin API.
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpClient {
 public:
  // Plain HTTP. `timeout` bounds each request as a whole: connect, send and receive.
  HttpClient(std::string host, std::uint16_t port, std::chrono::seconds timeout = std::chrono::seconds(30));
  // HTTP or HTTPS. An unreadable ca_file is reported by the first Get() or Post().
  HttpClient(std::string host, std::uint16_t port, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  [[nodiscard]] scep::Result<HttpClientResponse> Get(const std::string& target);
  // content_type "" = no Content-Type header.
  [[nodiscard]] scep::Result<HttpClientResponse> Post(const std::string& target, std::string body,
                                                      const std::string& content_type);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gateway
