// Real sockets on 127.0.0.1, servers on port 0. Raw POSIX sockets where the test must control the exact bytes.
#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <doctest/doctest.h>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "gateway/http_client.h"
#include "gateway/query_string.h"
#include "tests/support/recording_server.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using gateway::HttpClient;
using gateway::HttpRequest;
using gateway::HttpResponse;
using gateway::HttpServer;
using gateway::HttpServerOptions;

using TestServer = test::RecordingServer;

// A blocking TCP connection with a 5 s receive timeout, so a broken server fails the test instead of hanging it.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Everything until the peer closes; `closed` says whether it did (false: the 5 s timeout hit).
  std::string ReadUntilClose(bool* closed = nullptr) {
    std::string out;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        if (closed) *closed = (n == 0);
        return out;
      }
      out.append(buffer, static_cast<std::size_t>(n));
    }
  }
  // One response with a Content-Length body, leaving the connection open.
  std::string ReadResponse() {
    while (received_.find("\r\n\r\n") == std::string::npos && ReadMore()) {
    }
    const std::size_t header_end = received_.find("\r\n\r\n");
    if (header_end == std::string::npos) return std::exchange(received_, {});
    std::size_t length = 0;
    if (const std::size_t at = received_.find("Content-Length: "); at < header_end) {
      length = std::stoul(received_.substr(at + 16));
    }
    while (received_.size() < header_end + 4 + length && ReadMore()) {
    }
    std::string response = received_.substr(0, header_end + 4 + length);
    received_.erase(0, response.size());
    return response;
  }

 private:
  bool ReadMore() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) received_.append(buffer, static_cast<std::size_t>(n));
    return n > 0;
  }
  int fd_;
  bool connected_ = false;
  std::string received_;
};

using test::Base64Like;
using test::StartsWith;

}  // namespace

TEST_CASE("GET reaches the handler with method, path, query, headers and peer; reply comes back") {
  TestServer server({}, [](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "application/x-x509-ca-cert";
    response.body = std::string("\x30\x82\x00\x01", 4);
    response.headers.emplace_back("X-Test", "yes");
    return response;
  });
  HttpClient client("127.0.0.1", server.port());
  auto reply = client.Get("/scep/a%20b?operation=GetCACert&message=x+y%2B");
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  CHECK(reply->content_type == "application/x-x509-ca-cert");
  CHECK(reply->body == std::string("\x30\x82\x00\x01", 4));

  const HttpRequest request = server.last();
  CHECK(request.method == "GET");
  CHECK(request.target == "/scep/a%20b?operation=GetCACert&message=x+y%2B");
  CHECK(request.path == "/scep/a b");
  CHECK(request.query == "operation=GetCACert&message=x+y%2B");
  CHECK(request.body.empty());
  CHECK(request.version == 11);
  CHECK(request.remote_address == "127.0.0.1");
  CHECK(request.header("host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(request.header("user-agent") == "scep-gateway-client");
  CHECK(request.header("x-absent").empty());
}

TEST_CASE("POST body and headers reach the handler; every reply has Server, Content-Type, Content-Length") {
  TestServer server({}, [](const HttpRequest& request) {
    HttpResponse response;
    response.content_type = "application/x-pki-message";
    response.body = request.body;
    return response;
  });
  const std::string body("\x30\x00\xff\r\n\x01", 6);
  HttpClient client("127.0.0.1", server.port());
  auto reply = client.Post("/scep?operation=PKIOperation", body, "application/x-pki-message");
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  CHECK(reply->body == body);
  const HttpRequest request = server.last();
  CHECK(request.method == "POST");
  CHECK(request.path == "/scep");
  CHECK(request.body == body);
  CHECK(request.header("content-type") == "application/x-pki-message");
  CHECK(request.header("content-length") == "6");

  RawSocket raw(server.port());
  REQUIRE(raw.Send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-Mixed-Case: V\r\n\r\nabc"));
  const std::string response = raw.ReadResponse();
  CHECK(StartsWith(response, "HTTP/1.1 200"));
  CHECK(response.find("Server: scep-gateway\r\n") != std::string::npos);
  CHECK(response.find("Content-Type: application/x-pki-message\r\n") != std::string::npos);
  CHECK(response.find("Content-Length: 3\r\n") != std::string::npos);
  CHECK(server.last().header("x-mixed-case") == "V");
}

TEST_CASE("a 64 KiB URL reaches the handler intact") {
  TestServer server;
  const std::string prefix = "/scep?operation=PKIOperation&message=";
  const std::string message = Base64Like(64 * 1024 - prefix.size());
  const std::string target = prefix + message;
  REQUIRE(target.size() == 64 * 1024);
  HttpClient client("127.0.0.1", server.port());
  auto reply = client.Get(target);
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  const HttpRequest request = server.last();
  CHECK(request.target == target);
  CHECK(gateway::QueryParam(request.query, "message") == message);
}

TEST_CASE("URLs over the limit get 414, header blocks over the limit get 431") {
  TestServer server;
  HttpClient client("127.0.0.1", server.port());
  SUBCASE("80 KiB URL: the request line alone exceeds the header block limit") {
    auto reply = client.Get("/scep?message=" + Base64Like(80 * 1024));
    REQUIRE(reply.ok());
    CHECK(reply->status == 414);
  }
  SUBCASE("70 KiB URL: fits the header block, still over max_url_bytes") {
    auto reply = client.Get("/scep?message=" + Base64Like(70 * 1024));
    REQUIRE(reply.ok());
    CHECK(reply->status == 414);
  }
  SUBCASE("small URL, 90 KiB of header fields") {
    RawSocket raw(server.port());
    std::string request = "GET /scep HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 90; ++i) request += "X-Filler-" + std::to_string(i) + ": " + std::string(1024, 'f') + "\r\n";
    REQUIRE(raw.Send(request + "\r\n"));
    bool closed = false;
    const std::string response = raw.ReadUntilClose(&closed);
    CHECK(StartsWith(response, "HTTP/1.1 431"));
    CHECK(closed);
  }
}

TEST_CASE("Content-Length over max_body_bytes gets 413 right after the headers, without waiting for the body") {
  HttpServerOptions options;
  options.max_body_bytes = 1 << 20;
  TestServer server(options);
  RawSocket raw(server.port());
  const auto start = Clock::now();
  REQUIRE(raw.Send("POST /scep HTTP/1.1\r\nHost: h\r\nContent-Length: 2097152\r\n\r\n"));
  bool closed = false;
  const std::string response = raw.ReadUntilClose(&closed);  // we never send the body: a waiting server would time out
  CHECK(StartsWith(response, "HTTP/1.1 413"));
  CHECK(response.find("Connection: close\r\n") != std::string::npos);
  CHECK(closed);
  CHECK(Clock::now() - start < 2s);
}

TEST_CASE("a chunked body growing past max_body_bytes gets 413") {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  TestServer server(options);
  RawSocket raw(server.port());
  REQUIRE(raw.Send("POST /scep HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"));
  REQUIRE(raw.Send("200\r\n" + std::string(512, 'a') + "\r\n"));
  REQUIRE(raw.Send("400\r\n" + std::string(1024, 'b') + "\r\n0\r\n\r\n"));
  const std::string response = raw.ReadUntilClose();
  CHECK(StartsWith(response, "HTTP/1.1 413"));
}

TEST_CASE("unparsable HTTP gets 400 with the parser's reason, then close") {
  TestServer server;
  RawSocket raw(server.port());
  REQUIRE(raw.Send(std::string("\x16\x03\x01\x02\x00 garbage\r\n\r\n", 17)));
  bool closed = false;
  const std::string response = raw.ReadUntilClose(&closed);
  CHECK(StartsWith(response, "HTTP/1.1 400"));
  CHECK(response.find("\r\n\r\nbad request: ") != std::string::npos);
  CHECK(response.find("Content-Type: text/plain\r\n") != std::string::npos);
  CHECK(closed);
}

TEST_CASE("HTTP/1.0: no Host needed, closes by default, keeps alive when asked") {
  TestServer server;
  SUBCASE("plain 1.0") {
    RawSocket raw(server.port());
    REQUIRE(raw.Send("GET /scep?operation=GetCACaps HTTP/1.0\r\n\r\n"));
    bool closed = false;
    const std::string response = raw.ReadUntilClose(&closed);
    CHECK(StartsWith(response, "HTTP/1.0 200"));
    CHECK(response.substr(response.size() - 4) == "\r\nok");
    CHECK(closed);
    CHECK(server.last().version == 10);
    CHECK(server.last().header("host").empty());
  }
  SUBCASE("1.0 with Connection: keep-alive") {
    RawSocket raw(server.port());
    for (int i = 0; i < 3; ++i) {
      REQUIRE(raw.Send("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      const std::string response = raw.ReadResponse();
      CHECK(StartsWith(response, "HTTP/1.0 200"));
      CHECK(response.find("Connection: keep-alive\r\n") != std::string::npos);
    }
  }
}

TEST_CASE("keep-alive: several requests on one connection") {
  TestServer server;
  SUBCASE("raw HTTP/1.1 socket") {
    RawSocket raw(server.port());
    for (int i = 0; i < 5; ++i) {
      REQUIRE(raw.Send("GET /n HTTP/1.1\r\nHost: h\r\n\r\n"));
      CHECK(StartsWith(raw.ReadResponse(), "HTTP/1.1 200"));
    }
  }
  SUBCASE("HttpClient") {
    HttpClient client("127.0.0.1", server.port());
    for (int i = 0; i < 5; ++i) {
      auto reply = client.Post("/n", std::to_string(i), "");
      REQUIRE(reply.ok());
      CHECK(reply->body == "ok");
      CHECK(server.last().body == std::to_string(i));
      CHECK(server.last().header("content-type").empty());
    }
  }
}

TEST_CASE("HttpClient reconnects when the server has closed the idle connection") {
  HttpServerOptions options;
  options.read_timeout = 1s;  // the server drops idle keep-alive connections after this
  TestServer server(options);
  HttpClient client("127.0.0.1", server.port());
  REQUIRE(client.Get("/first").ok());
  std::this_thread::sleep_for(1500ms);
  auto reply = client.Get("/second");
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  CHECK(server.last().path == "/second");
}

TEST_CASE("Expect: 100-continue gets an interim reply before the body is sent") {
  TestServer server;
  RawSocket raw(server.port());
  REQUIRE(raw.Send("POST /scep HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  CHECK(raw.ReadResponse() == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(raw.Send("hello"));
  CHECK(StartsWith(raw.ReadResponse(), "HTTP/1.1 200"));
  CHECK(server.last().body == "hello");
}

TEST_CASE("a handler that throws gives 500 internal error, and the server keeps serving") {
  TestServer server({}, [](const HttpRequest& request) -> HttpResponse {
    if (request.path == "/throw") throw std::runtime_error("boom");
    return HttpResponse{};
  });
  HttpClient client("127.0.0.1", server.port());
  auto reply = client.Get("/throw");
  REQUIRE(reply.ok());
  CHECK(reply->status == 500);
  CHECK(reply->body == "internal error");
  auto next = client.Get("/fine");
  REQUIRE(next.ok());
  CHECK(next->status == 200);
}

TEST_CASE("a request that does not arrive within read_timeout is dropped") {
  HttpServerOptions options;
  options.read_timeout = 1s;
  TestServer server(options);
  RawSocket raw(server.port());
  const auto start = Clock::now();
  REQUIRE(raw.Send("GET /slowloris HTTP/1.1\r\nHost: h\r\n"));
  bool closed = false;
  CHECK(raw.ReadUntilClose(&closed).empty());
  CHECK(closed);
  CHECK(Clock::now() - start < 4s);
}

TEST_CASE("64 concurrent clients, 20 requests each, all succeed") {
  TestServer server({}, [](const HttpRequest& request) {
    HttpResponse response;
    response.body = request.query;
    return response;
  });
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client("127.0.0.1", server.port());
      for (int i = 0; i < 20; ++i) {
        const std::string query = "t=" + std::to_string(t) + "&i=" + std::to_string(i);
        auto reply = client.Get("/scep?" + query);
        if (reply.ok() && reply->status == 200 && reply->body == query) ++successes;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(successes == 64 * 20);
}

TEST_CASE("Start reports an address in use as an error value") {
  TestServer first;
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = first.port();
  HttpServer second(options, [](const HttpRequest&) { return HttpResponse{}; });
  const auto started = second.Start();
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().detail.find("cannot bind") != std::string::npos);
}

TEST_CASE("Stop lets a request in progress finish, then refuses new connections") {
  std::atomic<bool> entered{false};
  TestServer server({}, [&](const HttpRequest&) {
    entered = true;
    std::this_thread::sleep_for(300ms);
    HttpResponse response;
    response.body = std::string(100 * 1024, 'r');
    return response;
  });
  const std::uint16_t port = server.port();
  std::optional<scep::Result<gateway::HttpClientResponse>> reply;
  std::thread requester([&] {
    HttpClient client("127.0.0.1", port);
    reply.emplace(client.Get("/slow"));
  });
  while (!entered) std::this_thread::sleep_for(1ms);
  server.server().Stop();
  requester.join();
  REQUIRE(reply.has_value());
  REQUIRE(reply->ok());
  CHECK((*reply)->status == 200);
  CHECK((*reply)->body.size() == 100 * 1024);

  RawSocket late(port);
  CHECK_FALSE(late.connected());
  server.server().Wait();  // returns at once: Stop() has completed
  server.server().Stop();  // idempotent
}

TEST_CASE("Stop returns promptly with idle keep-alive connections open, and Wait wakes up") {
  TestServer server;  // read_timeout 30 s: only an active close can make Stop() quick
  HttpClient client("127.0.0.1", server.port());
  REQUIRE(client.Get("/warm").ok());
  RawSocket silent(server.port());
  RawSocket half(server.port());
  REQUIRE(half.Send("GET /half HTTP/1.1\r\n"));
  std::this_thread::sleep_for(50ms);  // let the server accept both

  std::atomic<bool> waited{false};
  std::thread waiter([&] {
    server.server().Wait();
    waited = true;
  });
  const auto start = Clock::now();
  server.server().Stop();
  CHECK(Clock::now() - start < 2s);
  waiter.join();
  CHECK(waited);
  bool closed = false;
  silent.ReadUntilClose(&closed);
  CHECK(closed);
  CHECK_FALSE(client.Get("/after").ok());
}
