// scep-bench: enrolls N distinct devices against a running scep-gateway over C keep-alive connections and reports
// throughput, latency and, given the server's pid, the server's CPU time per enrollment. See README.md.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>
#include <openssl/rand.h>

#include "bench/device_requests.h"
#include "bench/load_run.h"
#include "bench/process_cpu.h"
#include "bench/rsa_probe.h"
#include "gateway/http_client.h"
#include "scep/algorithms.h"
#include "scep/ca_caps.h"

namespace {

struct BenchArgs {
  std::string url;
  std::string challenge;
  std::size_t devices = 2000;
  unsigned connections = 16;
  int server_pid = 0;
  std::string cipher = "aes128";
  std::string digest = "sha256";
  bool open_replies = false;
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "scep-bench: %s\n", what.c_str());
  return 1;
}

// "http://127.0.0.1:8080/scep" -> host, port, path. Plain HTTP only.
std::optional<bench::Target> ParseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  bench::Target target;
  target.host = authority.substr(0, colon);
  const int port = std::atoi(authority.substr(colon + 1).c_str());
  if (target.host.empty() || port <= 0 || port > 65535) return std::nullopt;
  target.port = static_cast<std::uint16_t>(port);
  target.path = slash == std::string::npos ? "/" : rest.substr(slash);
  return target;
}

scep::Result<scep::UniquePtr<X509>> FetchCaCert(const bench::Target& target) {
  gateway::HttpClient client(target.host, target.port);
  auto response = client.Get(target.path + "?operation=GetCACert");
  if (!response) return response.error();
  if (response->status != 200) {
    return scep::MakeError(scep::ErrorCode::Internal, "GetCACert answered HTTP " + std::to_string(response->status));
  }
  if (response->content_type != scep::kCaCertContentType) {  // an RA beside the CA: the bench does not pick one
    return scep::MakeError(scep::ErrorCode::Internal, "GetCACert answered " + response->content_type +
                                                          "; the bench expects a single CA certificate");
  }
  return scep::CertFromDer(scep::AsBytes(response->body));
}

std::string RunTag() {
  unsigned char random[4];
  if (RAND_bytes(random, sizeof random) != 1) return "0";
  return scep::ToHex(random);
}

double Percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

// The RSA-2048 private-key operation timed just before and just after the run (neighbours on a shared VM change it
// within minutes).
struct RsaCost {
  std::optional<double> before_us;
  std::optional<double> after_us;
  [[nodiscard]] std::optional<double> Mean() const {
    if (!before_us || !after_us) return std::nullopt;
    return (*before_us + *after_us) / 2;
  }
};

constexpr int kRsaOpsPerEnrollment = 3;  // decrypt the envelope's key, sign the certificate, sign the CertRep

void PrintRsaShare(const RsaCost& rsa, double server_us_per_enrollment) {
  const auto op = rsa.Mean();
  if (!op) {
    std::printf("rsa-2048 private-key op  n/a (a probe signature failed)\n");
    return;
  }
  const double rsa_us = kRsaOpsPerEnrollment * *op;
  std::printf("rsa-2048 private-key op  %.0f us before the run, %.0f us after (this process, one thread)\n",
              *rsa.before_us, *rsa.after_us);
  std::printf("  per enrollment: %d of them ~%.0f us, everything else ~%.0f us; rsa-only ceiling %.0f per cpu-s\n",
              kRsaOpsPerEnrollment, rsa_us, server_us_per_enrollment - rsa_us, 1e6 / rsa_us);
}

void PrintResult(const BenchArgs& args, bench::RunResult& result, std::optional<bench::ProcessCpu> server_cpu,
                 const RsaCost& rsa) {
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  const double rate = result.wall_seconds > 0 ? static_cast<double>(result.succeeded) / result.wall_seconds : 0;
  std::printf("devices              %zu\n", args.devices);
  std::printf("connections          %u\n", args.connections);
  std::printf("succeeded            %zu\n", result.succeeded);
  std::printf("failed               %zu\n", result.failed);
  for (const auto& [why, count] : result.failure_reasons) std::printf("  %6zu x %s\n", count, why.c_str());
  std::printf("wall seconds         %.3f\n", result.wall_seconds);
  std::printf("enrollments/s        %.1f\n", rate);
  std::printf("latency ms           p50 %.2f  p99 %.2f  max %.2f\n", Percentile(result.latencies_ms, 0.50),
              Percentile(result.latencies_ms, 0.99), result.latencies_ms.empty() ? 0 : result.latencies_ms.back());
  if (!server_cpu) {
    std::printf("server cpu seconds   n/a (pass --server-pid)\n");
    return;
  }
  const double total = server_cpu->Total();
  std::printf("server cpu seconds   %.2f (user %.2f, system %.2f)\n", total, server_cpu->user, server_cpu->system);
  const double us_per_enrollment = result.succeeded > 0 ? 1e6 * total / static_cast<double>(result.succeeded) : 0.0;
  std::printf("server cpu us per enrollment  %.0f\n", us_per_enrollment);
  std::printf("enrollments per server cpu-second  %.0f\n",
              total > 0 ? static_cast<double>(result.succeeded) / total : 0.0);
  PrintRsaShare(rsa, us_per_enrollment);
}

void AddFlags(CLI::App& app, BenchArgs& args) {
  app.add_option("--url", args.url, "Gateway SCEP URL, e.g. http://127.0.0.1:8080/scep")->required();
  app.add_option("--challenge", args.challenge, "Challenge password the gateway expects")->required();
  app.add_option("--devices", args.devices, "Number of distinct devices to enroll")->check(CLI::PositiveNumber);
  app.add_option("--connections", args.connections, "Concurrent keep-alive connections")
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--server-pid", args.server_pid, "Gateway pid, to report its CPU seconds from /proc");
  app.add_option("--cipher", args.cipher, "Content cipher")->check(CLI::IsMember({"aes128", "aes256", "des3", "des"}));
  app.add_option("--digest", args.digest, "Signature digest")->check(CLI::IsMember({"sha256", "sha1"}));
  app.add_flag("--open-replies", args.open_replies,
               "Also decrypt every reply and check the issued certificate (costs client CPU)");
}

scep::ContentCipher CipherFromFlag(const std::string& name) {
  static const std::map<std::string, scep::ContentCipher> kCiphers = {
      {"aes128", scep::ContentCipher::Aes128Cbc}, {"aes256", scep::ContentCipher::Aes256Cbc},
      {"des3", scep::ContentCipher::DesEde3Cbc}, {"des", scep::ContentCipher::DesCbc}};
  return kCiphers.at(name);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"scep-bench: SCEP enrollment load generator"};
  BenchArgs args;
  AddFlags(app, args);
  CLI11_PARSE(app, argc, argv);

  const auto target = ParseUrl(args.url);
  if (!target) return Fail("--url must look like http://HOST:PORT/PATH");
  if (args.cipher == "des") {
    if (auto enabled = scep::EnableSingleDes(); !enabled) return Fail(enabled.error().ToString());
  }
  auto ca_cert = FetchCaCert(*target);
  if (!ca_cert) return Fail("GetCACert: " + ca_cert.error().ToString());

  bench::RequestOptions request_options;
  request_options.challenge = args.challenge;
  request_options.cipher = CipherFromFlag(args.cipher);
  request_options.digest = args.digest == "sha1" ? scep::Digest::Sha1 : scep::Digest::Sha256;
  request_options.build_threads = std::max(1u, std::thread::hardware_concurrency());
  std::printf("preparing %zu PKCSReq requests (%s, %s); RSA-2048 device keys come from a pool of %zu reused "
              "across devices, each device has its own subject, transactionID and signer certificate\n",
              args.devices, args.cipher.c_str(), args.digest.c_str(),
              std::min(request_options.key_pool_size, args.devices));
  std::fflush(stdout);
  auto batch = bench::BuildDeviceBatch(args.devices, ca_cert->get(), RunTag(), request_options);
  if (!batch) return Fail("building requests: " + batch.error().ToString());

  constexpr int kProbeRounds = 300;
  EVP_PKEY* probe_key = batch->key_pool.front().get();  // RSA-2048, like the benchmark's CA key
  RsaCost rsa;
  rsa.before_us = bench::RsaPrivateOpMicros(probe_key, kProbeRounds);
  const auto cpu_before = args.server_pid > 0 ? bench::ProcessCpuSeconds(args.server_pid) : std::nullopt;
  if (args.server_pid > 0 && !cpu_before) return Fail("cannot read /proc/" + std::to_string(args.server_pid) + "/stat");
  auto result = bench::RunEnrollments(*target, batch->requests, {args.connections, args.open_replies});
  const auto cpu_after = args.server_pid > 0 ? bench::ProcessCpuSeconds(args.server_pid) : std::nullopt;
  rsa.after_us = bench::RsaPrivateOpMicros(probe_key, kProbeRounds);
  std::optional<bench::ProcessCpu> server_cpu;
  if (cpu_before && cpu_after) server_cpu = *cpu_after - *cpu_before;
  PrintResult(args, result, server_cpu, rsa);
  return result.failed == 0 ? 0 : 2;
}
