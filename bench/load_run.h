// The timed phase: C threads, each with its own keep-alive connection, POST the prepared requests and check that
// every reply is a signed CertRep SUCCESS for that very request.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/device_requests.h"

namespace bench {

struct Target {
  std::string host;
  std::uint16_t port = 0;
  std::string path;  // "/scep"
};

struct RunOptions {
  unsigned connections = 16;
  bool open_replies = false;  // also decrypt each reply and check the issued certificate's subject
};

struct RunResult {
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::map<std::string, std::size_t> failure_reasons;  // why, and how many times
  std::vector<double> latencies_ms;                      // of every request, successful or not
  double wall_seconds = 0;
};

[[nodiscard]] RunResult RunEnrollments(const Target& target, const std::vector<DeviceRequest>& requests,
                                       const RunOptions& options);

}  // namespace bench
