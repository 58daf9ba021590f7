// Boost.Beast on Asio. Threads: `io_threads` run the io_context (accept, read, write, timers, all async, one
// strand per connection); `worker_threads` run the handler, which may block. A connection is in exactly one phase
// at a time (pipelined requests are answered one after another): reading a request, waiting for the handler,
// writing the reply, or lingering after an error reply. Stop() uses the phase to tell idle connections (closed
// at once) from busy ones (allowed to finish).
//
// Longer than our usual 400 lines: the connection and the server share ServerCore and the stop protocol, and
// one translation unit keeps Beast, which is slow to compile, in a single object file.
#include "gateway/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/query_string.h"

namespace gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::size_t kHeaderAllowance = 16 * 1024;  // header block limit = max_url_bytes + this
constexpr auto kStopGrace = std::chrono::seconds(10);
// After an error reply the client may still be sending (e.g. the body we refused). Closing with unread data
// makes the kernel send a RST, which can destroy our reply before the client reads it, so we drain a bounded
// amount for a bounded time first.
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

HttpRequest BuildRequest(http::request<http::string_body>&& message, std::string remote_address) {
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
  return request;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

class Connection;

// What connections share with the server. Owned by HttpServer::Impl and declared before its io_context, so it
// outlives every connection (the last ones may be destroyed with the io_context's pending handlers).
struct ServerCore {
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<bool> stopping{false};
  std::optional<net::thread_pool> workers;
  std::mutex mutex;
  std::condition_variable connections_changed;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mutex
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& core, tcp::socket socket, std::uint64_t id)
      : core_(core), id_(id), remote_address_(RemoteAddress(socket)), stream_(std::move(socket)) {}
  ~Connection() {
    std::lock_guard lock(core_.mutex);
    core_.connections.erase(id_);
    core_.connections_changed.notify_all();
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->core_.stopping) {
        self->Close();
      } else {
        self->ReadHeader();
      }
    });
  }
  // Called by Stop(): closes the connection unless a request is in the handler or its reply is being written.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::Reading || self->phase_ == Phase::Lingering) self->Close();
    });
  }
  void ForceClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class Phase { Reading, Handling, Writing, Lingering, Closed };

  void ReadHeader() {
    phase_ = Phase::Reading;
    const std::size_t header_limit = core_.options.max_url_bytes + kHeaderAllowance;
    parser_.emplace();
    version_ = 11;
    parser_->header_limit(static_cast<std::uint32_t>(header_limit));
    parser_->body_limit(core_.options.max_body_bytes);
    // One deadline for the whole request (header and body): a slow client cannot trickle bytes forever.
    stream_.expires_after(core_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (phase_ != Phase::Reading) return;  // closed by Stop() after the read had completed
    if (ec) return OnReadError(ec);
    version_ = parser_->get().version() == 10 ? 10 : 11;
    if (parser_->get().target().size() > core_.options.max_url_bytes) return SendError(414, "URI too long");
    if (parser_->is_done()) return Dispatch();
    auto read_body = [self = shared_from_this()](beast::error_code ec, std::size_t) {
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
    Close();  // timeout, peer gone, clean close between requests
  }

  void Dispatch() {
    phase_ = Phase::Handling;
    const bool keep_alive = parser_->keep_alive();
    HttpRequest request = BuildRequest(parser_->release(), remote_address_);
    net::post(*core_.workers, [self = shared_from_this(), request = std::move(request), keep_alive] {
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
    stream_.expires_after(core_.options.read_timeout);  // a client that stops reading cannot hold us forever
    http::async_write(stream_, message, [self = shared_from_this()](beast::error_code ec, std::size_t) {
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
    if (!response_->keep_alive() || core_.stopping) return Close();
    response_.reset();
    ReadHeader();
  }

  void Linger() {
    phase_ = Phase::Lingering;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ >= kLingerBytes || self->phase_ != Phase::Lingering) return self->Close();
      self->DrainSome();
    });
  }

  void Close() {
    if (phase_ == Phase::Closed) return;
    phase_ = Phase::Closed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();  // pending operations complete with operation_aborted and drop their reference
  }

  ServerCore& core_;
  const std::uint64_t id_;
  const std::string remote_address_;  // declared before stream_: initialised from the socket before it moves
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  Phase phase_ = Phase::Reading;
  unsigned version_ = 11;  // of the request being answered, so a 1.0 client gets a 1.0 reply
  bool linger_ = false;
  std::size_t drained_ = 0;
  std::array<char, 16 * 1024> drain_{};
};

}  // namespace

std::string_view HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : io_(std::max(options.io_threads, 1)), acceptor_(net::make_strand(io_)), retry_(acceptor_.get_executor()) {
    core_.options = std::move(options);
    core_.handler = std::move(handler);
  }
  ~Impl() { Stop(); }

  scep::Result<void> Start();
  std::uint16_t port() const { return port_; }
  void Stop() {
    std::call_once(stop_once_, [this] { StopOnce(); });
  }
  void Wait() {
    std::unique_lock lock(stopped_mutex_);
    stopped_cv_.wait(lock, [this] { return stopped_; });
  }

 private:
  scep::Result<void> Validate() const;
  scep::Result<void> Listen();
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void StopOnce();
  void WaitForConnections(std::chrono::seconds bound);
  void CloseAcceptor();
  void ForEachConnection(void (Connection::*action)());
  void RunIo();

  ServerCore core_;  // first: outlives io_ and everything its pending handlers hold
  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;  // used only on its strand
  net::steady_timer retry_;
  std::vector<std::thread> io_threads_;
  std::atomic<std::uint16_t> port_{0};
  std::uint64_t next_id_ = 0;  // acceptor strand only

  std::mutex lifecycle_mutex_;  // Start() against Stop()
  bool started_ = false;
  std::once_flag stop_once_;
  std::mutex stopped_mutex_;
  std::condition_variable stopped_cv_;
  bool stopped_ = false;
};

scep::Result<void> HttpServer::Impl::Validate() const {
  const HttpServerOptions& o = core_.options;
  std::string problems;
  if (o.io_threads < 1) problems += " io_threads must be at least 1;";
  if (o.worker_threads < 1) problems += " worker_threads must be at least 1;";
  if (o.max_url_bytes < 1 || o.max_url_bytes > std::numeric_limits<std::uint32_t>::max() - kHeaderAllowance) {
    problems += " max_url_bytes must be between 1 and 4 GiB minus 16 KiB;";
  }
  if (o.read_timeout.count() < 1) problems += " read_timeout must be at least 1 s;";
  if (o.backlog < 1) problems += " backlog must be at least 1;";
  if (!core_.handler) problems += " a handler is required;";
  if (problems.empty()) return {};
  problems.pop_back();
  return scep::MakeError(scep::ErrorCode::Internal, "invalid HTTP server options:" + problems);
}

// Binds and listens; on failure the acceptor is left closed.
scep::Result<void> HttpServer::Impl::Listen() {
  const HttpServerOptions& o = core_.options;
  const std::string where = o.host + ":" + std::to_string(o.port);
  beast::error_code ec;
  tcp::endpoint endpoint(net::ip::make_address(o.host, ec), o.port);
  if (ec) {  // not a literal address: resolve the name ("localhost") and take the first answer
    tcp::resolver resolver(io_);
    const auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
    if (ec || results.empty()) {
      return scep::MakeError(scep::ErrorCode::Internal, "cannot resolve " + where + ": " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }
  auto fail = [&](const char* step) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return scep::MakeError(scep::ErrorCode::Internal, std::string(step) + " " + where + ": " + ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec)) return fail("cannot open socket for");
  if (acceptor_.set_option(net::socket_base::reuse_address(true), ec)) return fail("cannot set SO_REUSEADDR on");
  if (acceptor_.bind(endpoint, ec)) return fail("cannot bind");
  if (acceptor_.listen(o.backlog, ec)) return fail("cannot listen on");
  port_ = acceptor_.local_endpoint(ec).port();
  return {};
}

scep::Result<void> HttpServer::Impl::Start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (started_) return scep::MakeError(scep::ErrorCode::Internal, "HTTP server already started");
  if (core_.stopping) return scep::MakeError(scep::ErrorCode::Internal, "HTTP server already stopped");
  if (auto valid = Validate(); !valid) return valid;
  if (auto listening = Listen(); !listening) return listening;
  started_ = true;  // from here Stop() has threads and a listener to clean up, even if we fail below
  try {
    core_.workers.emplace(static_cast<std::size_t>(core_.options.worker_threads));
    work_.emplace(net::make_work_guard(io_));
    net::post(acceptor_.get_executor(), [this] { Accept(); });
    for (int i = 0; i < core_.options.io_threads; ++i) io_threads_.emplace_back([this] { RunIo(); });
  } catch (const std::exception& e) {  // thread creation failed
    return scep::MakeError(scep::ErrorCode::Internal, std::string("cannot start HTTP server threads: ") + e.what());
  }
  return {};
}

void HttpServer::Impl::RunIo() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (...) {  // none of our handlers throw; if Asio ever does, keep serving rather than lose a thread
    }
  }
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open()) return;  // Stop() closed it
  if (ec) {
    // Out of file descriptors and the like: pause briefly instead of spinning on the same error.
    retry_.expires_after(std::chrono::milliseconds(50));
    retry_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) Accept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const std::uint64_t id = next_id_++;
  auto connection = std::make_shared<Connection>(core_, std::move(socket), id);
  {
    std::lock_guard lock(core_.mutex);
    core_.connections.emplace(id, connection);
  }
  connection->Start();
  Accept();
}

void HttpServer::Impl::CloseAcceptor() {
  std::promise<void> closed;
  net::post(acceptor_.get_executor(), [this, &closed] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
}

void HttpServer::Impl::ForEachConnection(void (Connection::*action)()) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(core_.mutex);
    for (auto& [id, weak] : core_.connections) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
  }
  for (auto& connection : live) ((*connection).*action)();
}

void HttpServer::Impl::WaitForConnections(std::chrono::seconds bound) {
  std::unique_lock lock(core_.mutex);
  core_.connections_changed.wait_for(lock, bound, [this] { return core_.connections.empty(); });
}

void HttpServer::Impl::StopOnce() {
  bool started = false;
  {
    std::lock_guard lock(lifecycle_mutex_);
    core_.stopping = true;  // read by connections: no new keep-alive rounds, new connections closed
    started = started_;
  }
  if (started) {
    CloseAcceptor();
    ForEachConnection(&Connection::CloseIfIdle);
    WaitForConnections(kStopGrace);  // busy connections close themselves once their reply is written
    ForEachConnection(&Connection::ForceClose);  // only handlers that overran the grace period are left
    WaitForConnections(std::chrono::seconds(1));
    // I/O stops before the workers are joined: afterwards no strand can post new work to the pool, and replies
    // of overrunning handlers are simply dropped with the io_context's queue.
    work_.reset();
    io_.stop();
    for (auto& thread : io_threads_) thread.join();
    if (core_.workers) core_.workers->join();  // a handler that never returns blocks here (documented)
  }
  {
    std::lock_guard lock(stopped_mutex_);
    stopped_ = true;
  }
  stopped_cv_.notify_all();
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() = default;
scep::Result<void> HttpServer::Start() { return impl_->Start(); }
std::uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::Stop() { impl_->Stop(); }
void HttpServer::Wait() { impl_->Wait(); }

}  // namespace gateway
