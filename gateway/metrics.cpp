#include "gateway/metrics.h"

#include <cstdio>

namespace gateway {
namespace {

// The routes hand over canonical spellings; anything else a client sent is one "other" series.
std::string_view FoldOperation(std::string_view op) {
  for (std::string_view known : {"GetCACaps", "GetCACert", "PKIOperation", "GetNextCACert", "healthz", "metrics"}) {
    if (op == known) return known;
  }
  return op.empty() ? "none" : "other";
}

std::string_view FoldOutcome(std::string_view outcome) {
  if (outcome == "SUCCESS") return "success";
  if (outcome == "FAILURE") return "failure";
  if (outcome == "PENDING") return "pending";
  if (outcome == "ok" || outcome == "rejected" || outcome == "error") return outcome;
  return "other";
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void GatewayMetrics::ObserveRequest(std::string_view operation, std::string_view outcome, double seconds) {
  const std::string op(FoldOperation(operation));
  std::lock_guard lock(mutex_);
  ++requests_[{op, std::string(FoldOutcome(outcome))}];
  Histogram& h = latency_[op];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void GatewayMetrics::ObserveEnrollment(std::string_view status, std::string_view fail_info) {
  std::string result = status == "SUCCESS" ? "issued" : status == "PENDING" ? "pending" : "failed";
  std::lock_guard lock(mutex_);
  ++enrollments_[{result, result == "failed" ? std::string(fail_info.empty() ? "none" : fail_info) : ""}];
}

std::string GatewayMetrics::Render(std::int64_t certificates_in_store, double ca_expiry_seconds) const {
  std::string out;
  std::lock_guard lock(mutex_);
  Header(out, "scep_requests_total", "counter", "HTTP requests by SCEP operation and outcome.");
  for (const auto& [key, n] : requests_) {
    out += "scep_requests_total{operation=\"" + key.first + "\",outcome=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
  }
  Header(out, "scep_enrollments_total", "counter", "PKCSReq and RenewalReq by result and failInfo.");
  for (const auto& [key, n] : enrollments_) {
    out += "scep_enrollments_total{result=\"" + key.first + "\"" +
           (key.second.empty() ? "" : ",fail_info=\"" + key.second + "\"") + "} " + std::to_string(n) + "\n";
  }
  Header(out, "scep_request_duration_seconds", "histogram", "Time to answer a request, by operation.");
  for (const auto& [op, h] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "scep_request_duration_seconds_bucket{operation=\"" + op + "\",le=\"" + Number(kBuckets[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "scep_request_duration_seconds_bucket{operation=\"" + op + "\",le=\"+Inf\"} " + std::to_string(h.count) +
           "\n";
    out += "scep_request_duration_seconds_sum{operation=\"" + op + "\"} " + Number(h.sum) + "\n";
    out += "scep_request_duration_seconds_count{operation=\"" + op + "\"} " + std::to_string(h.count) + "\n";
  }
  Header(out, "scep_certificates_in_store", "gauge", "Certificates recorded in the store.");
  out += "scep_certificates_in_store " + std::to_string(certificates_in_store) + "\n";
  Header(out, "scep_ca_certificate_expiry_seconds", "gauge", "Seconds until the CA certificate expires.");
  out += "scep_ca_certificate_expiry_seconds " + Number(ca_expiry_seconds) + "\n";
  return out;
}

}  // namespace gateway
