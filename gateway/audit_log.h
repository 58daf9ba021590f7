// The audit file and the exit notifications fed from it.
//
// <data_dir>/audit.jsonl gets one JSON object per line, appended with a single write() on an O_APPEND descriptor and
// fsync'd before Record returns; so the serving gateway and a CLI process can append to it at the same time without
// tearing lines. Notification webhooks read the same file: a background thread POSTs each line to each URL in order
// and keeps its progress as a byte offset in <data_dir>/notify-<sha256(url)[:16]>.offset. Delivery therefore resumes
// after a restart and also carries lines other processes wrote. Only one process delivers at a time (an flock on
// <data_dir>/notify.lock), so a CLI opened with webhooks beside a running gateway sends nothing twice.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "config/gateway_config.h"
#include "gateway/audit_events.h"
#include "scep/result.h"

namespace gateway {

// The offset file name of a notification URL, relative to the data dir: "notify-<16 hex>.offset".
[[nodiscard]] std::string NotifyOffsetFileName(const std::string& url);

class AuditLog final : public AuditSink {
 public:
  // Creates the data dir and the file (mode 0600) when missing; starts the delivery thread when
  // notifications.webhooks is not empty. An error names the file that could not be opened.
  [[nodiscard]] static scep::Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& data_dir,
                                                                    const config::NotificationsConfig& notifications);
  ~AuditLog() override;  // stops the delivery thread (an HTTP request in flight finishes or times out first)
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Thread-safe. Append and fsync (group-committed with concurrent callers); never wait for a webhook.
  [[nodiscard]] scep::Result<void> Record(const AuditEvent& event) override;
  [[nodiscard]] scep::Result<void> RecordLines(std::string_view lines) override;

  [[nodiscard]] const std::filesystem::path& path() const;

 private:
  class Delivery;
  AuditLog(std::filesystem::path path, int fd);

  std::filesystem::path path_;
  int fd_ = -1;             // O_WRONLY | O_APPEND
  std::mutex write_mutex_;            // guards the counters below and orders the write() calls
  std::condition_variable synced_;    // signalled when a flush ends
  std::uint64_t writes_ = 0;          // guarded by write_mutex_: write() calls so far
  std::uint64_t writes_synced_ = 0;   // guarded by write_mutex_: writes covered by a finished fdatasync
  bool syncing_ = false;              // guarded by write_mutex_: a flush is running (outside the mutex)
  std::unique_ptr<Delivery> delivery_;
};

}  // namespace gateway
