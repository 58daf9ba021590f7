// Logging: text for people (default) or JSON lines for machines (`log.format: json`), one line per request.
#pragma once

#include <string>

#include "config/gateway_config.h"

namespace gateway {

// Sets the level and format of every log line. Call once at start-up, before threads start.
void ConfigureLogging(const config::LogConfig& log);

struct RequestLogEntry {
  std::string remote_address, method, operation;
  int http_status = 0;
  std::string message_type, transaction_id, outcome, fail_info, subject, serial, reason;
  double ms = 0;
};

// Never pass a challenge password or a key here: the entry is written as is.
void LogRequest(const RequestLogEntry& entry);

}  // namespace gateway
