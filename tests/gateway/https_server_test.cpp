// HttpServer with TLS on 127.0.0.1 port 0. The certificate is a fresh self-signed one made by the openssl CLI
// for every test (DNS:localhost and IP:127.0.0.1), so clients can verify against the certificate itself.
#include <atomic>
#include <doctest/doctest.h>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "gateway/http_client.h"
#include "gateway/http_server.h"
#include "gateway/query_string.h"
#include "tests/support/recording_server.h"
#include "tests/support/test_files.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using gateway::HttpClient;
using gateway::HttpClientOptions;
using gateway::HttpRequest;
using gateway::HttpResponse;
using gateway::HttpServer;
using gateway::HttpServerOptions;
namespace beast = boost::beast;
namespace net = boost::asio;

// cert.pem / key.pem in a temp dir: a P-256 key and a self-signed certificate valid for one day.
struct TestCert {
  TestCert() {
    std::string output;
    const int status = test::Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1"
                                 " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
                                 " -keyout " + key().string() + " -out " + cert().string(),
                                 &output);
    REQUIRE_MESSAGE(status == 0, output);
  }
  std::filesystem::path cert() const { return dir / "cert.pem"; }
  std::filesystem::path key() const { return dir / "key.pem"; }
  test::TempDir dir;
};

// An HTTPS server whose handler records the last request and answers "ok" (or what `respond` says).
struct TlsTestServer {
  explicit TlsTestServer(HttpServerOptions options = {}, gateway::HttpHandler respond = nullptr)
      : server_(WithTls(std::move(options), cert_), std::move(respond)) {}
  static HttpServerOptions WithTls(HttpServerOptions options, const TestCert& cert) {
    options.tls = gateway::TlsFiles{cert.cert().string(), cert.key().string()};
    return options;
  }
  HttpRequest last() { return server_.last(); }
  // A client that verifies the server against the test certificate.
  HttpClient Client() const {
    HttpClientOptions options;
    options.tls = true;
    options.ca_file = cert_.cert().string();
    return HttpClient("127.0.0.1", server_.port(), options);
  }
  std::uint16_t port() const { return server_.port(); }
  HttpServer& server() { return server_.server(); }
  const TestCert& cert() const { return cert_; }

 private:
  TestCert cert_;  // before server_: its files must exist when the server starts
  test::RecordingServer server_;
};

// A connection whose exact bytes the test controls, over TLS (no verification: only the server is under test) or
// plain TCP. Every operation is bounded by 5 s so a broken server fails the test instead of hanging it.
class RawConnection {
 public:
  RawConnection(std::uint16_t port, bool tls) : tls_(tls) {
    const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    connected_ = !Run([&](auto handler) { Tcp().async_connect(endpoint, std::move(handler)); });
    if (connected_ && tls_) {
      connected_ = !Run([&](auto handler) { stream_.async_handshake(net::ssl::stream_base::client, handler); });
    }
  }
  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    return !Run([&](auto handler) {
      OnStream([&](auto& stream) { net::async_write(stream, net::buffer(data.data(), data.size()), handler); });
    });
  }
  // Everything until the peer closes; `closed` says whether it did (false: the timeout or another error hit).
  std::string ReadUntilClose(bool* closed = nullptr) {
    std::string out;
    for (;;) {
      char chunk[4096];
      std::size_t n = 0;
      const auto ec = Run([&](auto handler) {
        auto done = [&n, handler](beast::error_code ec, std::size_t count) {
          n = count;
          handler(ec);
        };
        OnStream([&](auto& stream) { stream.async_read_some(net::buffer(chunk), done); });
      });
      out.append(chunk, n);
      if (ec) {
        // A server that closes without close_notify shows up as stream_truncated over TLS.
        if (closed) *closed = ec == net::error::eof || ec == net::ssl::error::stream_truncated;
        return out;
      }
    }
  }

 private:
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }
  template <typename Operation>
  void OnStream(Operation&& operation) {
    tls_ ? operation(stream_) : operation(Tcp());
  }
  template <typename Initiate>
  beast::error_code Run(Initiate&& initiate) {
    beast::error_code result = net::error::would_block;
    Tcp().expires_after(5s);
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  bool tls_;
  bool connected_ = false;
  net::io_context io_;
  net::ssl::context context_{net::ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream_{io_, context_};
};

using test::Base64Like;
using test::StartsWith;

}  // namespace

TEST_CASE("HTTPS GET round trip, verified against the server's certificate; keep-alive works") {
  TlsTestServer server({}, [](const HttpRequest& request) {
    HttpResponse response;
    response.content_type = "application/x-x509-ca-cert";
    response.body = request.tls ? "over tls" : "plain";
    return response;
  });
  HttpClient client = server.Client();
  for (int i = 0; i < 3; ++i) {
    auto reply = client.Get("/scep?operation=GetCACert&n=" + std::to_string(i));
    REQUIRE_MESSAGE(reply.ok(), (reply.ok() ? "" : reply.error().ToString()));
    CHECK(reply->status == 200);
    CHECK(reply->content_type == "application/x-x509-ca-cert");
    CHECK(reply->body == "over tls");
  }
  const HttpRequest request = server.last();
  CHECK(request.tls);
  CHECK(request.path == "/scep");
  CHECK(request.query == "operation=GetCACert&n=2");
  CHECK(request.remote_address == "127.0.0.1");
  auto posted = client.Post("/scep?operation=PKIOperation", "\x30\x00", "application/x-pki-message");
  REQUIRE(posted.ok());
  CHECK(server.last().body == "\x30\x00");
}

TEST_CASE("curl --cacert talks to the HTTPS server") {
  TlsTestServer server;
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/scep?operation=GetCACaps";
  std::string output;
  const int status = test::Run("curl -sS --max-time 10 --cacert " + server.cert().cert().string() + " '" + url + "'",
                               &output);
  CHECK_MESSAGE(status == 0, output);
  CHECK(output == "ok");
  CHECK(server.last().tls);
  // And at the DNS name of the certificate, via SNI.
  const std::string by_name = "https://localhost:" + std::to_string(server.port()) + "/";
  const int named = test::Run("curl -sS --max-time 10 --resolve localhost:" + std::to_string(server.port()) +
                                  ":127.0.0.1 --cacert " + server.cert().cert().string() + " " + by_name,
                              &output);
  CHECK_MESSAGE(named == 0, output);
}

TEST_CASE("a client that does not trust the certificate fails the handshake; insecure skips the check") {
  TlsTestServer server;
  HttpClientOptions options;
  options.tls = true;
  options.timeout = 5s;
  SUBCASE("system CAs do not know the self-signed certificate") {
    HttpClient client("127.0.0.1", server.port(), options);
    auto reply = client.Get("/");
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().detail.find("https://127.0.0.1:") != std::string::npos);
    CHECK(reply.error().detail.find("certificate verify failed") != std::string::npos);
  }
  SUBCASE("insecure") {
    options.insecure = true;
    HttpClient client("127.0.0.1", server.port(), options);
    auto reply = client.Get("/");
    REQUIRE(reply.ok());
    CHECK(reply->body == "ok");
  }
  SUBCASE("a CA file that does not exist is reported by the first request") {
    options.ca_file = (server.cert().dir / "missing-ca.pem").string();
    HttpClient client("127.0.0.1", server.port(), options);
    auto reply = client.Get("/");
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().ToString().find("missing-ca.pem") != std::string::npos);
    CHECK(reply.error().ToString().find("No such file") != std::string::npos);
  }
}

TEST_CASE("plain HTTP to the HTTPS port gets the connection closed; the server keeps serving") {
  TlsTestServer server;
  RawConnection plain(server.port(), /*tls=*/false);
  REQUIRE(plain.connected());
  REQUIRE(plain.Send("GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: h\r\n\r\n"));
  bool closed = false;
  const std::string response = plain.ReadUntilClose(&closed);
  CHECK(closed);
  CHECK(response.find("HTTP/1.1 200") == std::string::npos);

  HttpClient plain_client("127.0.0.1", server.port(), 5s);
  CHECK_FALSE(plain_client.Get("/").ok());

  HttpClient client = server.Client();
  auto reply = client.Get("/after");
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  CHECK(server.last().path == "/after");
}

TEST_CASE("a TCP client that never starts the handshake is dropped after read_timeout") {
  HttpServerOptions options;
  options.read_timeout = 1s;
  TlsTestServer server(options);
  RawConnection silent(server.port(), /*tls=*/false);
  REQUIRE(silent.connected());
  const auto start = Clock::now();
  bool closed = false;
  CHECK(silent.ReadUntilClose(&closed).empty());
  CHECK(closed);
  CHECK(Clock::now() - start < 4s);
}

TEST_CASE("over TLS, Content-Length over max_body_bytes gets 413 right after the headers") {
  HttpServerOptions options;
  options.max_body_bytes = 1 << 20;
  TlsTestServer server(options);
  RawConnection raw(server.port(), /*tls=*/true);
  REQUIRE(raw.connected());
  const auto start = Clock::now();
  REQUIRE(raw.Send("POST /scep HTTP/1.1\r\nHost: h\r\nContent-Length: 2097152\r\n\r\n"));
  bool closed = false;
  const std::string response = raw.ReadUntilClose(&closed);  // we never send the body
  CHECK(StartsWith(response, "HTTP/1.1 413"));
  CHECK(response.find("Connection: close\r\n") != std::string::npos);
  CHECK(closed);
  CHECK(Clock::now() - start < 2s);
}

TEST_CASE("over TLS, a 64 KiB URL reaches the handler intact and an 80 KiB one gets 414") {
  TlsTestServer server;
  const std::string prefix = "/scep?operation=PKIOperation&message=";
  const std::string message = Base64Like(64 * 1024 - prefix.size());
  HttpClient client = server.Client();
  auto reply = client.Get(prefix + message);
  REQUIRE(reply.ok());
  CHECK(reply->status == 200);
  CHECK(server.last().target.size() == 64 * 1024);
  CHECK(gateway::QueryParam(server.last().query, "message") == message);

  auto too_long = client.Get("/scep?message=" + Base64Like(80 * 1024));
  REQUIRE(too_long.ok());
  CHECK(too_long->status == 414);
}

TEST_CASE("HTTPS client reconnects when the server has closed the idle connection") {
  HttpServerOptions options;
  options.read_timeout = 1s;
  TlsTestServer server(options);
  HttpClient client = server.Client();
  REQUIRE(client.Get("/first").ok());
  std::this_thread::sleep_for(1500ms);
  auto reply = client.Get("/second");
  REQUIRE_MESSAGE(reply.ok(), (reply.ok() ? "" : reply.error().ToString()));
  CHECK(server.last().path == "/second");
}

TEST_CASE("Stop during a TLS request in the handler still delivers the reply") {
  std::atomic<bool> entered{false};
  TlsTestServer server({}, [&](const HttpRequest&) {
    entered = true;
    std::this_thread::sleep_for(300ms);
    HttpResponse response;
    response.body = std::string(100 * 1024, 'r');
    return response;
  });
  std::optional<scep::Result<gateway::HttpClientResponse>> reply;
  HttpClient client = server.Client();
  std::thread requester([&] { reply.emplace(client.Get("/slow")); });
  while (!entered) std::this_thread::sleep_for(1ms);
  const auto start = Clock::now();
  server.server().Stop();
  requester.join();
  CHECK(Clock::now() - start < 5s);
  REQUIRE(reply.has_value());
  REQUIRE_MESSAGE(reply->ok(), (reply->ok() ? "" : reply->error().ToString()));
  CHECK((*reply)->status == 200);
  CHECK((*reply)->body.size() == 100 * 1024);
  CHECK_FALSE(RawConnection(server.port(), /*tls=*/false).connected());
}

TEST_CASE("Start fails with an error naming the TLS file that cannot be loaded") {
  TestCert cert;
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  auto start_with = [&](gateway::TlsFiles files) {
    options.tls = std::move(files);
    HttpServer server(options, [](const HttpRequest&) { return HttpResponse{}; });
    const auto started = server.Start();
    CHECK(server.port() == 0);  // nothing was bound
    REQUIRE_FALSE(started.ok());
    return started.error().ToString();
  };
  SUBCASE("missing key") {
    const std::string missing = (cert.dir / "no-such-key.pem").string();
    const std::string error = start_with({cert.cert().string(), missing});
    CHECK_MESSAGE(error.find(missing) != std::string::npos, error);
    CHECK_MESSAGE(error.find("No such file") != std::string::npos, error);
  }
  SUBCASE("empty key path") {
    const std::string error = start_with({cert.cert().string(), ""});
    CHECK_MESSAGE(error.find("key_file") != std::string::npos, error);
  }
  SUBCASE("missing certificate") {
    const std::string missing = (cert.dir / "no-such-cert.pem").string();
    const std::string error = start_with({missing, cert.key().string()});
    CHECK_MESSAGE(error.find(missing) != std::string::npos, error);
  }
  SUBCASE("key of another certificate") {
    TestCert other;
    const std::string error = start_with({cert.cert().string(), other.key().string()});
    CHECK_MESSAGE(error.find(other.key().string()) != std::string::npos, error);
  }
  SUBCASE("encrypted key: refused, no passphrase prompt") {
    const auto encrypted = cert.dir / "encrypted-key.pem";
    REQUIRE(test::Run("openssl pkey -in " + cert.key().string() + " -aes256 -passout pass:secret -out " +
                      encrypted.string()) == 0);
    const std::string error = start_with({cert.cert().string(), encrypted.string()});
    CHECK_MESSAGE(error.find(encrypted.string()) != std::string::npos, error);
  }
}
