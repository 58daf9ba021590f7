// Blocking calls built from Beast's async operations: each call runs the private io_context until the operation
// completes, so tcp_stream's timers can bound it (Beast's synchronous calls have no timeout).
#include "gateway/http_client.h"

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::uint64_t kMaxResponseBody = 64 * 1024 * 1024;
constexpr std::uint32_t kMaxResponseHeader = 64 * 1024;

// Errors that mean "the server closed the idle keep-alive connection before we used it": safe to retry once on a
// fresh connection, because the server cannot have acted on a request it never read.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == http::error::partial_message;
}

}  // namespace

class HttpClient::Impl {
 public:
  Impl(std::string host, std::uint16_t port, std::chrono::seconds timeout)
      : host_(std::move(host)), port_(port), timeout_(timeout), stream_(io_) {}

  scep::Result<HttpClientResponse> Send(http::verb verb, const std::string& target, std::string body,
                                        const std::string& content_type);

 private:
  // Runs one async operation to completion on this thread and returns its error code.
  template <typename Initiate>
  beast::error_code Await(Initiate&& initiate) {
    beast::error_code result = net::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  beast::error_code Connect() {
    tcp::resolver resolver(io_);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return ec;
    stream_.expires_after(timeout_);
    ec = Await([&](auto handler) { stream_.async_connect(endpoints, std::move(handler)); });
    if (!ec) {
      beast::error_code ignored;
      stream_.socket().set_option(tcp::no_delay(true), ignored);
    }
    connected_ = !ec;
    return ec;
  }

  void Disconnect() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.clear();
    connected_ = false;
  }

  scep::Error Fail(const std::string& what, const beast::error_code& ec) const {
    return scep::MakeError(scep::ErrorCode::Internal,
                           what + " http://" + host_ + ":" + std::to_string(port_) + ": " + ec.message());
  }

  std::string host_;
  std::uint16_t port_;
  std::chrono::seconds timeout_;
  net::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

scep::Result<HttpClientResponse> HttpClient::Impl::Send(http::verb verb, const std::string& target, std::string body,
                                                        const std::string& content_type) {
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, host_ + ":" + std::to_string(port_));
  request.set(http::field::user_agent, "scep-gateway-client");
  if (!content_type.empty()) request.set(http::field::content_type, content_type);
  request.body() = std::move(body);
  request.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    const bool reused = connected_;
    if (!connected_) {
      if (const auto ec = Connect(); ec) return Fail("cannot connect to", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    parser.header_limit(kMaxResponseHeader);
    stream_.expires_after(timeout_);
    auto ec = Await([&](auto handler) { http::async_write(stream_, request, std::move(handler)); });
    if (!ec) ec = Await([&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
    if (ec) {
      Disconnect();
      if (reused && attempt == 0 && IsStaleConnection(ec)) continue;
      return Fail("request failed:", ec);
    }
    auto& response = parser.get();
    if (!response.keep_alive()) Disconnect();
    HttpClientResponse out;
    out.status = static_cast<int>(response.result_int());
    out.content_type = std::string(response[http::field::content_type]);
    out.body = std::move(response.body());
    return out;
  }
}

HttpClient::HttpClient(std::string host, std::uint16_t port, std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>(std::move(host), port, timeout)) {}
HttpClient::~HttpClient() = default;

scep::Result<HttpClientResponse> HttpClient::Get(const std::string& target) {
  return impl_->Send(http::verb::get, target, {}, {});
}

scep::Result<HttpClientResponse> HttpClient::Post(const std::string& target, std::string body,
                                                  const std::string& content_type) {
  return impl_->Send(http::verb::post, target, std::move(body), content_type);
}

}  // namespace gateway
