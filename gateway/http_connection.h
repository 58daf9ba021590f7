// One accepted connection of HttpServer, over plain TCP or TLS. Internal to http_server.cpp and
// http_connection.cpp: this header brings in Asio, which http_server.h keeps away from its users.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "gateway/http_server.h"

namespace gateway::http_detail {

inline constexpr std::size_t kHeaderAllowance = 16 * 1024;  // header block limit = max_url_bytes + this
inline constexpr std::size_t kReadReserve = 8 * 1024;        // read buffer room per connection, see ReadHeader

class ConnectionBase;

// What connections share with the server. Owned by HttpServer::Impl and declared before its io_context, so it
// outlives every connection (the last ones may be destroyed with the io_context's pending handlers).
struct ServerCore {
  HttpServerOptions options;
  HttpHandler handler;
  std::optional<boost::asio::ssl::context> tls;  // set: every connection speaks TLS
  std::atomic<bool> stopping{false};
  std::optional<boost::asio::thread_pool> workers;
  std::mutex mutex;
  std::condition_variable connections_changed;
  std::unordered_map<std::uint64_t, std::weak_ptr<ConnectionBase>> connections;  // guarded by mutex
};

// What the server needs from a connection, whatever stream it runs on.
class ConnectionBase {
 public:
  ConnectionBase(ServerCore& core, std::uint64_t id) : core_(core), id_(id) {}
  // Unregisters, so that Stop() can wait for the map to empty.
  virtual ~ConnectionBase();
  ConnectionBase(const ConnectionBase&) = delete;
  ConnectionBase& operator=(const ConnectionBase&) = delete;

  // Called by Stop(): closes the connection unless a request is in the handler or its reply is being written.
  virtual void CloseIfIdle() = 0;
  virtual void ForceClose() = 0;

 protected:
  ServerCore& core_;

 private:
  const std::uint64_t id_;
};

// Registers a connection for `socket` in core.connections and starts serving it (TLS handshake first when
// core.tls is set). Call on the acceptor's strand; `id` must be unique for the server.
void StartConnection(ServerCore& core, boost::asio::ip::tcp::socket socket, std::uint64_t id);

}  // namespace gateway::http_detail
