// The scep-gateway process itself: command line, signals, configuration errors, the generated challenge.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cctype>

#include "tests/support/gateway_process.h"
#include "tests/support/scep_test_client.h"

namespace {

// The secret on the "Generated challenge password ..." line the gateway prints once, on the start that generates
// it: the first run of 16 or more letters and digits on that line (the path beside it has no such run). "" if there
// is no such line. (No std::regex: GCC 12 warns inside it under -fsanitize.)
std::string GeneratedChallenge(const std::string& output) {
  const auto start = output.find("Generated challenge password");
  if (start == std::string::npos) return "";
  const std::string line = output.substr(start, output.find('\n', start) - start);
  std::string token;
  for (char c : line + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      token += c;
    } else if (token.size() >= 16) {
      return token;
    } else {
      token.clear();
    }
  }
  return "";
}

std::size_t SkipDigits(const std::string& s, std::size_t i) {
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// Whether the output holds "FILE:LINE: KEY: " or "FILE:LINE:COLUMN: KEY: ".
bool NamesProblem(const std::string& output, const std::string& file, int line, const std::string& key) {
  const std::string where = file + ":" + std::to_string(line);
  for (auto at = output.find(where); at != std::string::npos; at = output.find(where, at + 1)) {
    auto i = at + where.size();
    if (i < output.size() && output[i] == ':' && i + 1 < output.size() && std::isdigit(static_cast<unsigned char>(output[i + 1]))) {
      i = SkipDigits(output, i + 1);  // a column
    }
    if (output.compare(i, key.size() + 4, ": " + key + ": ") == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("--version prints a version; --help of every command exits 0") {
  std::string out;
  CHECK(test::RunGatewayCli("--version", &out) == 0);
  CAPTURE(out);
  // "scep-gateway MAJOR.MINOR.PATCH"
  REQUIRE(out.rfind("scep-gateway ", 0) == 0);
  const auto major_end = SkipDigits(out, 13);
  const auto minor_end = major_end < out.size() && out[major_end] == '.' ? SkipDigits(out, major_end + 1) : 0;
  const auto patch_end = minor_end < out.size() && out[minor_end] == '.' ? SkipDigits(out, minor_end + 1) : 0;
  CHECK(major_end > 13);
  CHECK(minor_end > major_end + 1);
  CHECK(patch_end > minor_end + 1);
  for (const char* cmd : {"serve --help", "ca init --help", "certs list --help"}) {
    CAPTURE(cmd);
    CHECK(test::RunGatewayCli(cmd, &out) == 0);
    CAPTURE(out);
    CHECK(out.find("--data-dir") != std::string::npos);
  }
  CHECK(test::RunGatewayCli("no-such-command", &out) != 0);
}

TEST_CASE("SIGTERM stops a serving gateway with exit status 0") {
  test::GatewayProcess gw;
  gateway::HttpClient http("127.0.0.1", gw.port());
  auto health = http.Get("/healthz");
  REQUIRE(health.ok());
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  const auto status = gw.Stop();
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CAPTURE(gw.Log());
  CHECK(gw.Log().find("received SIGTERM") != std::string::npos);
  // Nobody answers on the port any more.
  gateway::HttpClient after("127.0.0.1", gw.port(), std::chrono::seconds(2));
  CHECK(!after.Get("/healthz").ok());
}

TEST_CASE("a bad config file stops start-up with file:line: key for every problem") {
  test::TempDir dir;
  const auto config = dir / "bad.yaml";
  test::WriteText(config, "log:\n  level: info\nscep:\n  allow_single_des: maybe\nhttp:\n  max_body_byte: 10\n");
  std::string out;
  // `timeout` bounds the run should the gateway wrongly start serving.
  const int rc = test::Run("timeout 20 " + test::GatewayBinary().string() + " serve --listen 127.0.0.1:0 --config " +
                               config.string() + " --data-dir " + (dir / "data").string(),
                           &out);
  CAPTURE(out);
  CHECK(rc != 0);
  CHECK(rc != 124);  // not the timeout
  CHECK(NamesProblem(out, config.string(), 4, "scep.allow_single_des"));
  CHECK(NamesProblem(out, config.string(), 6, "http.max_body_byte"));
  CHECK(!std::filesystem::exists(dir / "data" / "ca.pem"));  // nothing was created

  // The same file repaired starts (so the failure above was the file's doing).
  test::WriteText(config, "log:\n  level: info\nscep:\n  allow_single_des: false\nhttp:\n  max_body_bytes: 4096\n");
  test::GatewayProcess gw({.config_yaml = test::ReadText(config)});
  CHECK(gw.running());
}

TEST_CASE("without --challenge a challenge is generated, kept in DATA_DIR/challenge (0600) and reused") {
  test::TempDir dir;
  const auto data = dir / "data";
  const auto challenge_file = data / "challenge";
  std::string secret;
  {
    test::GatewayProcess gw({.challenge = "", .data_dir = data});
    secret = GeneratedChallenge(gw.Log());
    CAPTURE(gw.Log());
    REQUIRE(secret.size() >= 16);
    CHECK(test::ReadText(challenge_file) == secret + "\n");
    struct stat st {};
    REQUIRE(::stat(challenge_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    test::ScepTestClient client(gw.port());
    REQUIRE(client.FetchCa() == "");
    auto device = test::MakeDevice({.subject = {{"CN", "first-start"}}, .challenge = secret});
    auto reply = client.Enroll(device);
    INFO(reply.Describe());
    CHECK(reply.success());
    CHECK(gw.Stop() == 0);
  }
  {
    // The second start keeps the file and says where the password is, without showing it again.
    test::GatewayProcess gw({.challenge = "", .data_dir = data});
    CAPTURE(gw.Log());
    CHECK(GeneratedChallenge(gw.Log()) == "");
    CHECK(gw.Log().find(secret) == std::string::npos);
    CHECK(gw.Log().find(challenge_file.string()) != std::string::npos);
    CHECK(test::ReadText(challenge_file) == secret + "\n");

    test::ScepTestClient client(gw.port());
    REQUIRE(client.FetchCa() == "");
    auto key = scep::UniquePtr<EVP_PKEY>(EVP_RSA_gen(2048));
    auto device = test::MakeDevice({.subject = {{"CN", "second-start"}}, .challenge = secret}, key.get());
    auto reply = client.Enroll(device);
    INFO(reply.Describe());
    CHECK(reply.success());
    auto wrong = test::MakeDevice({.subject = {{"CN", "second-start"}}, .challenge = secret + "x"}, key.get());
    auto refused = client.Enroll(wrong);
    INFO(refused.Describe());
    REQUIRE(refused.rep.has_value());
    CHECK(refused.rep->fail_info == scep::FailInfo::BadRequest);
  }
  CHECK(test::ListCerts(data).count == 2);
}
