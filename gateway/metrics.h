// Prometheus metrics (text exposition format 0.0.4): requests, enrollments, latency, store size, CA expiry.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace gateway {

class GatewayMetrics {
 public:
  // operation: the SCEP operation (or "healthz", "metrics"); outcome: "ok", "rejected", "error", or the CertRep
  // pkiStatus. Labels are folded onto fixed sets, so a client cannot grow the series without bound.
  void ObserveRequest(std::string_view operation, std::string_view outcome, double seconds);
  // For PKCSReq / RenewalReq: status "SUCCESS" | "FAILURE" | "PENDING"; fail_info for FAILURE.
  void ObserveEnrollment(std::string_view status, std::string_view fail_info);

  // The whole /metrics page. The gauges are read by the caller at scrape time.
  [[nodiscard]] std::string Render(std::int64_t certificates_in_store, double ca_expiry_seconds) const;

  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // non-cumulative; Render accumulates
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> requests_;  // (operation, outcome)
  std::map<std::string, Histogram> latency_;                              // by operation
  std::map<std::pair<std::string, std::string>, std::uint64_t> enrollments_;  // (result, failInfo)
};

}  // namespace gateway
