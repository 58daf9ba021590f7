// ParseHostPort: the listen address.
#include <doctest/doctest.h>

#include "config/gateway_config.h"

namespace {

bool Parses(const char* text, const char* host, int port) {
  const std::optional<config::HostPort> parsed = config::ParseHostPort(text);
  return parsed && parsed->host == host && parsed->port == port;
}

}  // namespace

TEST_CASE("ParseHostPort accepts names, IPv4 and bracketed IPv6") {
  CHECK(Parses("0.0.0.0:8080", "0.0.0.0", 8080));
  CHECK(Parses("localhost:0", "localhost", 0));
  CHECK(Parses("scep.example.com:65535", "scep.example.com", 65535));
  CHECK(Parses("[::1]:80", "::1", 80));
  CHECK(Parses("[::]:443", "::", 443));
  CHECK(Parses("[fe80::1%eth0]:8080", "fe80::1%eth0", 8080));
  CHECK(Parses("[::ffff:192.0.2.1]:1", "::ffff:192.0.2.1", 1));
}

TEST_CASE("ParseHostPort rejects what is not HOST:PORT") {
  for (const char* bad : {"", "8080", ":8080", "host", "host:", "host:65536", "host:-1", "host:+80", "host:80x",
                          "host:123456", "::1:80", "[::1]", "[::1]80", "[::1]:", "[]:80", "[host]:80", "a b:80",
                          "[::1:80", "[fe80::1%]:80", "host:80:90"}) {
    CHECK_MESSAGE(!config::ParseHostPort(bad).has_value(), bad);
  }
}
