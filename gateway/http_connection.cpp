// A connection is in exactly one phase at a time (pipelined requests are answered one after another): reading a
// request, waiting for the handler, writing the reply, or lingering after an error reply or a TLS close. Stop()
// uses the phase to tell idle connections (closed at once) from busy ones (allowed to finish). Everything runs on
// the connection's strand except the handler, which runs on the worker pool.
//
// One template serves both transports: Stream is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
// The few places where TLS differs (handshake, close_notify, lingering below the TLS layer) use `if constexpr`.
#include "gateway/http_connection.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "gateway/query_string.h"

namespace gateway::http_detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// After an error reply the client may still be sending (e.g. the body we refused). Closing with unread data
// makes the kernel send a RST, which can destroy our reply before the client reads it, so we drain a bounded
// amount for a bounded time first. The same bound applies to waiting for a TLS client's close_notify.
constexpr std::size_t kLingerBytes = 256 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

HttpResponse PlainResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpResponse InvokeHandler(const HttpHandler& handler, const HttpRequest& request) {
  try {
    return handler(request);
  } catch (...) {  // the service is meant to catch its own; this is the last line of defence
    return PlainResponse(500, "internal error");
  }
}

std::string RemoteAddress(const tcp::socket& socket) {
  beast::error_code ec;
  net::ip::address address = socket.remote_endpoint(ec).address();
  if (ec) return {};
  // A dual-stack listener on "::" sees IPv4 peers as ::ffff:a.b.c.d; report the plain IPv4 form.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

HttpRequest BuildRequest(http::request<http::string_body>&& message, std::string remote_address, bool tls) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const std::size_t question = request.target.find('?');
  request.path = PercentDecode(std::string_view(request.target).substr(0, question));
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  for (const auto& field : message) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = std::move(remote_address);
  request.version = message.version();
  request.tls = tls;
  return request;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

template <typename Stream>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Connection(ServerCore& core, tcp::socket socket, std::uint64_t id)
      : ConnectionBase(core, id), remote_address_(RemoteAddress(socket)), stream_(OpenStream(core, socket)) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->core_.stopping) return self->Close();
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadHeader();
      }
    });
  }
  void CloseIfIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ == Phase::Reading || self->phase_ == Phase::Lingering) self->Close();
    });
  }
  void ForceClose() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  enum class Phase { Reading, Handling, Writing, Lingering, Closed };

  static Stream OpenStream(ServerCore& core, tcp::socket& socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *core.tls);
    } else {
      return Stream(std::move(socket));
    }
  }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  // Phase Reading: to Stop() a connection still in its handshake is idle. A client that does not speak TLS
  // (plain HTTP to the HTTPS port) fails here and is simply closed.
  void Handshake() {
    Tcp().expires_after(core_.options.read_timeout);
    stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
      if (self->phase_ != Phase::Reading) return;
      ec ? self->Close() : self->ReadHeader();
    });
  }

  void ReadHeader() {
    phase_ = Phase::Reading;
    const std::size_t header_limit = core_.options.max_url_bytes + kHeaderAllowance;
    parser_.emplace();
    version_ = 11;
    parser_->header_limit(static_cast<std::uint32_t>(header_limit));
    parser_->body_limit(core_.options.max_body_bytes);
    // Beast reads as much as the buffer has room for, at least 512 bytes. The parser moves each chunk into the
    // body and empties the buffer, so on a keep-alive connection the room never grew past 512 and a 4 KiB
    // pkiMessage took eight recvmsg calls, each a trip through the strand. With room for a typical request it
    // takes one; larger ones (40 KiB Intune GETs) still grow the buffer as before.
    if (buffer_.capacity() < kReadReserve) buffer_.reserve(kReadReserve);
    // One deadline for the whole request (header and body): a slow client cannot trickle bytes forever.
    Tcp().expires_after(core_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec,
                                                                                          std::size_t) {
      self->OnHeader(ec);
    });
  }

  void OnHeader(beast::error_code ec) {
    if (phase_ != Phase::Reading) return;  // closed by Stop() after the read had completed
    if (ec) return OnReadError(ec);
    version_ = parser_->get().version() == 10 ? 10 : 11;
    if (parser_->get().target().size() > core_.options.max_url_bytes) return SendError(414, "URI too long");
    if (parser_->is_done()) return Dispatch();
    auto read_body = [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->OnReadError(ec);
      http::async_read(self->stream_, self->buffer_, *self->parser_, [self](beast::error_code ec, std::size_t) {
        if (self->phase_ != Phase::Reading) return;
        ec ? self->OnReadError(ec) : self->Dispatch();
      });
    };
    // curl and others wait (typically 1 s) for "100 Continue" before sending a body they announced with Expect.
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue") && parser_->get().version() >= 11) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()), std::move(read_body));
    } else {
      read_body(beast::error_code{}, 0);
    }
  }

  void OnReadError(beast::error_code ec) {
    if (phase_ != Phase::Reading) return;  // closed by Stop() or a timeout while reading
    if (ec == http::error::header_limit) {
      // Beast reports one error for both; the request line is complete (target set) only if the fields overflowed.
      const auto target = parser_->get().target();
      const bool url_too_long = target.empty() || target.size() > core_.options.max_url_bytes;
      return url_too_long ? SendError(414, "URI too long") : SendError(431, "request header fields too large");
    }
    if (ec == http::error::body_limit) return SendError(413, "payload too large");
    if (IsHttpParseError(ec) && ec != http::error::end_of_stream) {
      return SendError(400, "bad request: " + ec.message());
    }
    Close();  // timeout, peer gone, clean close between requests, TLS record error
  }

  void Dispatch() {
    phase_ = Phase::Handling;
    const bool keep_alive = parser_->keep_alive();
    HttpRequest request = BuildRequest(parser_->release(), remote_address_, kTls);
    net::post(*core_.workers, [self = this->shared_from_this(), request = std::move(request), keep_alive] {
      HttpResponse response = InvokeHandler(self->core_.handler, request);
      const bool head = request.method == "HEAD";
      net::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive, head]() mutable {
        self->Reply(std::move(response), keep_alive, head);
      });
    });
  }

  void SendError(int status, std::string reason) {
    linger_ = true;
    Reply(PlainResponse(status, std::move(reason)), /*keep_alive=*/false, /*head=*/false);
  }

  void Reply(HttpResponse response, bool keep_alive, bool head) {
    if (phase_ == Phase::Closed) return;
    phase_ = Phase::Writing;
    auto& message = response_.emplace();
    try {
      BuildReply(std::move(response), keep_alive && !core_.stopping, head, message);
    } catch (const std::exception&) {  // Beast refuses some replies (status > 999, a body on 204/304)
      message = {};
      BuildReply(PlainResponse(500, "internal error"), false, false, message);
    }
    Tcp().expires_after(core_.options.read_timeout);  // a client that stops reading cannot hold us forever
    http::async_write(stream_, message, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnWritten(ec);
    });
  }

  void BuildReply(HttpResponse response, bool keep_alive, bool head, http::response<http::string_body>& message) {
    if (response.status < 200) response.status = 500;  // 1xx cannot be a final reply; Beast refuses > 999
    message.result(static_cast<unsigned>(response.status));
    message.version(version_);
    message.set(http::field::server, "scep-gateway");
    message.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) message.insert(name, value);
    message.keep_alive(keep_alive);
    const std::size_t length = response.body.size();
    message.body() = std::move(response.body);
    message.prepare_payload();
    if (head) {  // HEAD: announce the length of the body a GET would return, send none
      message.body().clear();
      message.content_length(length);
    }
  }

  void OnWritten(beast::error_code ec) {
    if (phase_ != Phase::Writing) return;
    if (ec) return Close();
    if (linger_) return Linger();
    if (!response_->keep_alive() || core_.stopping) return Finish();
    response_.reset();
    ReadHeader();
  }

  // Ends the connection after a reply that said "Connection: close". Over TLS a close_notify first tells the
  // client the reply was complete; Asio's shutdown also waits for the client's close_notify, bounded here.
  void Finish() {
    if constexpr (kTls) {
      phase_ = Phase::Lingering;
      Tcp().expires_after(kLingerTime);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Close(); });
    } else {
      Close();
    }
  }

  // Drains below TLS, if any: we no longer care what the client sends, so there is nothing to decrypt, and a
  // TLS read could need to write, which shutdown_send forbids.
  void Linger() {
    phase_ = Phase::Lingering;
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().expires_after(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    Tcp().async_read_some(net::buffer(drain_), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ >= kLingerBytes || self->phase_ != Phase::Lingering) return self->Close();
      self->DrainSome();
    });
  }

  void Close() {
    if (phase_ == Phase::Closed) return;
    phase_ = Phase::Closed;
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().close();  // pending operations complete with operation_aborted and drop their reference
  }

  const std::string remote_address_;  // declared before stream_: initialised from the socket before it moves
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  Phase phase_ = Phase::Reading;
  unsigned version_ = 11;  // of the request being answered, so a 1.0 client gets a 1.0 reply
  bool linger_ = false;
  std::size_t drained_ = 0;
  std::array<char, 16 * 1024> drain_{};
};

template <typename Stream>
void Launch(ServerCore& core, tcp::socket socket, std::uint64_t id) {
  auto connection = std::make_shared<Connection<Stream>>(core, std::move(socket), id);
  {
    std::lock_guard lock(core.mutex);
    core.connections.emplace(id, connection);
  }
  connection->Start();
}

}  // namespace

ConnectionBase::~ConnectionBase() {
  std::lock_guard lock(core_.mutex);
  core_.connections.erase(id_);
  core_.connections_changed.notify_all();
}

void StartConnection(ServerCore& core, tcp::socket socket, std::uint64_t id) {
  if (core.tls) {
    Launch<TlsStream>(core, std::move(socket), id);
  } else {
    Launch<beast::tcp_stream>(core, std::move(socket), id);
  }
}

}  // namespace gateway::http_detail
