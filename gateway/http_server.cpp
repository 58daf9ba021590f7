// Boost.Beast on Asio. Threads: `io_threads` run the io_context (accept, read, write, timers, all async, one
// strand per connection); `worker_threads` run the handler, which may block. Connections live in
// http_connection.cpp; this file owns the listener, the TLS context and the stop protocol.
#include "gateway/http_server.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/system_error.hpp>
// Asio's ssl::context has no names for a minimum protocol version or for refusing renegotiation, and keeps only
// the first OpenSSL error of a failed load; those few calls go to OpenSSL directly.
#include <openssl/ssl.h>

#include "gateway/http_connection.h"

namespace gateway {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using http_detail::ConnectionBase;
using http_detail::kHeaderAllowance;

constexpr auto kStopGrace = std::chrono::seconds(10);

// The server side of TLS: the PEM chain (leaf first) and key from `files`, TLS 1.2 or newer, no compression
// (CRIME), no renegotiation (a client-driven CPU cost and a source of past bugs).
scep::Result<net::ssl::context> LoadTlsContext(const TlsFiles& files) try {
  net::ssl::context context(net::ssl::context::tls_server);
  SSL_CTX* ctx = context.native_handle();  // borrowed: the context owns it
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return scep::OpensslError(scep::ErrorCode::Internal, "cannot set the TLS minimum version");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Without a callback OpenSSL would prompt on the terminal for an encrypted key and block start-up; refusing
  // makes such a key fail to load like any other bad key file.
  SSL_CTX_set_default_passwd_cb(ctx, [](char*, int, int, void*) { return -1; });
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return scep::OpensslError(scep::ErrorCode::Internal, "cannot load TLS certificate chain " + files.cert_file);
  }
  // Also checks that the key matches the certificate loaded above.
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return scep::OpensslError(scep::ErrorCode::Internal, "cannot load TLS private key " + files.key_file);
  }
  return context;
} catch (const boost::system::system_error& e) {  // Asio throws only if it cannot allocate the SSL_CTX
  return scep::OpensslError(scep::ErrorCode::Internal, std::string("cannot create a TLS context: ") + e.what());
}

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
  void ForEachConnection(void (ConnectionBase::*action)());
  void RunIo();

  http_detail::ServerCore core_;  // first: outlives io_ and everything its pending handlers hold
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
  if (o.tls && (o.tls->cert_file.empty() || o.tls->key_file.empty())) {
    problems += " tls needs both cert_file and key_file;";
  }
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
  if (core_.options.tls) {
    auto context = LoadTlsContext(*core_.options.tls);
    if (!context) return context.error();
    core_.tls.emplace(std::move(*context));
  }
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
  http_detail::StartConnection(core_, std::move(socket), next_id_++);
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

void HttpServer::Impl::ForEachConnection(void (ConnectionBase::*action)()) {
  std::vector<std::shared_ptr<ConnectionBase>> live;
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
    ForEachConnection(&ConnectionBase::CloseIfIdle);
    WaitForConnections(kStopGrace);  // busy connections close themselves once their reply is written
    ForEachConnection(&ConnectionBase::ForceClose);  // only handlers that overran the grace period are left
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
