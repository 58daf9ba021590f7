// Blocking calls built from Beast's async operations: each call runs the private io_context until the operation
// completes, so tcp_stream's timers can bound it (Beast's synchronous calls have no timeout). Over TLS the streams
// are made afresh for every connection: an SSL object cannot be reused after its connection is gone.
#include "gateway/http_client.h"

#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/system/system_error.hpp>
// Asio's ssl::context has no name for a minimum protocol version, no wrapper for SNI, and keeps only the first
// OpenSSL error of a failed load (often a meaningless "system lib"); those calls go to OpenSSL directly.
#include <openssl/ssl.h>

namespace gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::uint64_t kMaxResponseBody = 64 * 1024 * 1024;
constexpr std::uint32_t kMaxResponseHeader = 64 * 1024;

// Errors that mean "the server closed the idle keep-alive connection before we used it": safe to retry once on a
// fresh connection, because the server cannot have acted on a request it never read. A TLS server that drops an
// idle connection without close_notify shows up as stream_truncated.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == http::error::partial_message || ec == ssl::error::stream_truncated;
}

HttpClientOptions PlainOptions(std::chrono::seconds timeout) {
  HttpClientOptions options;
  options.timeout = timeout;
  return options;
}

// The client side of TLS: 1.2 or newer; unless insecure, the server must present a certificate that chains to
// ca_file (or the system's CAs) and names `host`.
scep::Result<ssl::context> MakeTlsContext(const std::string& host, const HttpClientOptions& options) try {
  ssl::context context(ssl::context::tls_client);
  SSL_CTX* ctx = context.native_handle();  // borrowed: the context owns it
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return scep::OpensslError(scep::ErrorCode::Internal, "cannot set the TLS minimum version");
  }
  if (options.insecure) return context;  // verify_none is the default
  const int loaded = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                             : SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr);
  if (loaded != 1) {
    const std::string source = options.ca_file.empty() ? "the system's CA certificates" : options.ca_file;
    return scep::OpensslError(scep::ErrorCode::Internal, "cannot load " + source);
  }
  context.set_verify_mode(ssl::verify_peer);
  context.set_verify_callback(ssl::host_name_verification(host));
  return context;
} catch (const boost::system::system_error& e) {  // Asio throws only if it cannot allocate the SSL_CTX
  return scep::OpensslError(scep::ErrorCode::Internal, std::string("cannot create a TLS context: ") + e.what());
}

}  // namespace

class HttpClient::Impl {
 public:
  Impl(std::string host, std::uint16_t port, HttpClientOptions options)
      : host_(std::move(host)), port_(port), options_(std::move(options)) {
    if (!options_.tls) return;
    auto context = MakeTlsContext(host_, options_);
    if (context) {
      tls_context_.emplace(std::move(*context));
    } else {
      setup_error_ = context.error();
    }
  }

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

  // Calls `operation` with whichever stream the current connection uses.
  template <typename Operation>
  beast::error_code OnStream(Operation&& operation) {
    return tls_ ? operation(*tls_) : operation(*plain_);
  }
  beast::tcp_stream& Tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  beast::error_code Connect() {
    tcp::resolver resolver(io_);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return ec;
    if (tls_context_) {
      tls_.emplace(io_, *tls_context_);
    } else {
      plain_.emplace(io_);
    }
    Tcp().expires_after(options_.timeout);  // one deadline for connect and handshake
    ec = Await([&](auto handler) { Tcp().async_connect(endpoints, std::move(handler)); });
    if (!ec) {
      beast::error_code ignored;
      Tcp().socket().set_option(tcp::no_delay(true), ignored);
    }
    if (!ec && tls_) ec = Handshake();
    connected_ = !ec;
    return ec;
  }

  beast::error_code Handshake() {
    beast::error_code not_an_address;
    net::ip::make_address(host_, not_an_address);
    // SNI carries names only (RFC 6066 forbids IP literals); a server with several names picks its certificate by it.
    if (not_an_address && SSL_set_tlsext_host_name(tls_->native_handle(), host_.c_str()) != 1) {
      return beast::error_code(static_cast<int>(ERR_get_error()), net::error::get_ssl_category());
    }
    return Await([&](auto handler) { tls_->async_handshake(ssl::stream_base::client, std::move(handler)); });
  }

  // Abandons the connection without a TLS close_notify: the server treats a bare close like any other.
  void Disconnect() {
    if (plain_ || tls_) {
      beast::error_code ignored;
      Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
      Tcp().close();
    }
    tls_.reset();
    plain_.reset();
    buffer_.clear();
    connected_ = false;
  }

  scep::Error Fail(const std::string& what, const beast::error_code& ec) const {
    const std::string url = (options_.tls ? "https://" : "http://") + host_ + ":" + std::to_string(port_);
    return scep::MakeError(scep::ErrorCode::Internal, what + " " + url + ": " + ec.message());
  }

  std::string host_;
  std::uint16_t port_;
  HttpClientOptions options_;
  std::optional<ssl::context> tls_context_;  // set when options_.tls and the CA file loaded
  std::optional<scep::Error> setup_error_;   // set when options_.tls and it did not
  net::io_context io_;
  // At most one is set: the stream of the current connection.
  std::optional<beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

scep::Result<HttpClientResponse> HttpClient::Impl::Send(http::verb verb, const std::string& target, std::string body,
                                                        const std::string& content_type) {
  if (setup_error_) return *setup_error_;
  http::request<http::string_body> request{verb, target, 11};
  // An IPv6 literal goes in brackets, or the port would read as part of the address.
  const bool v6 = host_.find(':') != std::string::npos;
  request.set(http::field::host, (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_));
  request.set(http::field::user_agent, "scep-gateway-client");
  if (!content_type.empty()) request.set(http::field::content_type, content_type);
  for (const auto& [name, value] : options_.headers) request.set(name, value);
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
    Tcp().expires_after(options_.timeout);
    auto ec = OnStream([&](auto& stream) {
      auto result = Await([&](auto handler) { http::async_write(stream, request, std::move(handler)); });
      if (!result) result = Await([&](auto handler) { http::async_read(stream, buffer_, parser, std::move(handler)); });
      return result;
    });
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
    : HttpClient(std::move(host), port, PlainOptions(timeout)) {}
HttpClient::HttpClient(std::string host, std::uint16_t port, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(host), port, std::move(options))) {}
HttpClient::~HttpClient() = default;

scep::Result<HttpClientResponse> HttpClient::Get(const std::string& target) {
  return impl_->Send(http::verb::get, target, {}, {});
}

scep::Result<HttpClientResponse> HttpClient::Post(const std::string& target, std::string body,
                                                  const std::string& content_type) {
  return impl_->Send(http::verb::post, target, std::move(body), content_type);
}

}  // namespace gateway
