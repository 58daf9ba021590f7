#include "gateway/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/http_client.h"
#include "gateway/policy_webhook.h"
#include "scep/der.h"

namespace gateway {
namespace {

using Clock = std::chrono::steady_clock;
using scep::ErrorCode;

// How long one notification POST may take; also bounds how long destruction can wait for a request in flight.
constexpr std::chrono::seconds kDeliveryTimeout{10};
// How often an idle deliverer looks for lines other processes appended (they cannot wake this one).
constexpr std::chrono::seconds kIdlePoll{1};
// How much of the audit file is read at once; a longer line is read whole anyway.
constexpr std::size_t kReadChunk = 64 * 1024;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

scep::Error SystemError(const std::string& what) {
  return scep::MakeError(ErrorCode::Internal, what + ": " + std::strerror(errno));
}

std::string Rfc3339(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32] = {};
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Complete lines (without '\n') starting at `offset`; stops at the first incomplete one, which a writer in
// another process may still be appending.
std::vector<std::string> ReadLines(int fd, std::uint64_t offset) {
  std::string buffer;
  for (std::size_t want = kReadChunk;; want *= 2) {
    buffer.resize(want);
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (n <= 0) return {};
    buffer.resize(static_cast<std::size_t>(n));
    if (buffer.find('\n') != std::string::npos || static_cast<std::size_t>(n) < want) break;
  }
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = buffer.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(buffer.substr(start, end - start));
  }
  return lines;
}

}  // namespace

std::string AuditEventToJson(const AuditEvent& e) {
  nlohmann::ordered_json j;
  j["event"] = e.event;
  j["time"] = Rfc3339(e.time != 0 ? e.time : static_cast<std::int64_t>(std::time(nullptr)));
  auto add = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  add("endpoint", e.endpoint);
  add("transaction_id", e.transaction_id);
  if (e.request_id != 0) j["request_id"] = e.request_id;
  add("serial", e.serial);
  add("subject", e.subject);
  add("sans", e.sans);
  add("reason", e.reason);
  add("actor", e.actor);
  add("client_address", e.client_address);
  // replace: subjects come from CSRs and may hold invalid UTF-8; the line must still be written.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string NotifyOffsetFileName(const std::string& url) {
  return "notify-" + scep::ToHex(scep::Sha256(scep::AsBytes(url))).substr(0, 16) + ".offset";
}

// ---- delivery ----------------------------------------------------------------------------------------------------

class AuditLog::Delivery {
 public:
  Delivery(std::filesystem::path audit_path, const std::filesystem::path& data_dir,
           const config::NotificationsConfig& config)
      : audit_path_(std::move(audit_path)),
        lock_path_(data_dir / "notify.lock"),
        retry_(std::max(1, config.retry_seconds)) {
    for (const auto& url : config.webhooks) targets_.push_back(MakeTarget(url, data_dir));
    thread_ = std::thread([this] { Run(); });
  }

  ~Delivery() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void Wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    cv_.notify_all();
  }

 private:
  struct Target {
    std::string url;
    std::optional<WebhookUrl> parsed;
    std::unique_ptr<HttpClient> client;
    FileDescriptor offset_file;
    std::uint64_t offset = 0;
    Clock::time_point next_try{};
  };

  static Target MakeTarget(const std::string& url, const std::filesystem::path& data_dir) {
    Target t;
    t.url = url;
    t.parsed = ParseWebhookUrl(url);
    if (t.parsed) {
      HttpClientOptions options;
      options.timeout = kDeliveryTimeout;
      options.tls = t.parsed->tls;
      t.client = std::make_unique<HttpClient>(t.parsed->host, t.parsed->port, options);
    }
    const auto path = data_dir / NotifyOffsetFileName(url);
    t.offset_file = FileDescriptor(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!t.offset_file) spdlog::warn("notifications: cannot open {}: {}", path.string(), std::strerror(errno));
    char buf[32] = {};
    if (t.offset_file && ::pread(t.offset_file.get(), buf, sizeof buf - 1, 0) > 0) {
      t.offset = std::strtoull(buf, nullptr, 10);
    }
    return t;
  }

  // Fixed width, so that each save overwrites the whole previous value in one small write.
  static void SaveOffset(Target& t) {
    if (!t.offset_file) return;
    char buf[32] = {};
    const int len = std::snprintf(buf, sizeof buf, "%020llu\n", static_cast<unsigned long long>(t.offset));
    if (::pwrite(t.offset_file.get(), buf, static_cast<std::size_t>(len), 0) != len ||
        ::fdatasync(t.offset_file.get()) != 0) {
      spdlog::warn("notifications: cannot save the progress of {}: {}", t.url, std::strerror(errno));
    }
  }

  // Only one process delivers: the lock is taken once and held until this object goes away.
  bool HoldDeliveryLock() {
    if (lock_file_) return true;
    FileDescriptor fd(::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return false;
    lock_file_.emplace(std::move(fd));
    return true;
  }

  std::optional<std::string> Post(Target& t, const std::string& line) {
    if (!t.parsed) return "not an http(s) URL";
    auto response = t.client->Post(t.parsed->target, line, "application/json");
    if (!response) return response.error().detail;
    if (response->status < 200 || response->status > 299) return "HTTP " + std::to_string(response->status);
    return std::nullopt;
  }

  // Sends every complete line after t.offset, in order; false at the first failure.
  bool DeliverPending(Target& t) {
    FileDescriptor audit(::open(audit_path_.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st{};
    if (!audit || ::fstat(audit.get(), &st) != 0) return true;  // nothing written yet
    if (static_cast<std::uint64_t>(st.st_size) < t.offset) {
      spdlog::warn("notifications: {} is shorter than the progress of {}; starting again from its beginning",
                   audit_path_.string(), t.url);
      t.offset = 0;
      SaveOffset(t);
    }
    for (auto lines = ReadLines(audit.get(), t.offset); !lines.empty(); lines = ReadLines(audit.get(), t.offset)) {
      for (const auto& line : lines) {
        if (stopping_) return true;
        if (auto failure = Post(t, line)) {
          spdlog::warn("notifications: delivery to {} failed ({}); retrying in {}s", t.url, *failure, retry_.count());
          return false;
        }
        t.offset += line.size() + 1;
        SaveOffset(t);
      }
    }
    return true;
  }

  void Run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      woken_ = false;
      lock.unlock();
      auto now = Clock::now();
      auto next_wake = now + kIdlePoll;
      if (HoldDeliveryLock()) {
        for (auto& t : targets_) {
          if (now >= t.next_try && !DeliverPending(t)) t.next_try = Clock::now() + retry_;
          if (t.next_try > now) next_wake = std::min(next_wake, t.next_try);
        }
      }
      lock.lock();
      cv_.wait_until(lock, next_wake, [this] { return stopping_ || woken_; });
    }
  }

  const std::filesystem::path audit_path_;
  const std::filesystem::path lock_path_;
  const std::chrono::seconds retry_;
  std::vector<Target> targets_;  // used by the delivery thread only
  std::optional<FileDescriptor> lock_file_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  bool woken_ = false;
  std::thread thread_;
};

// ---- the log -----------------------------------------------------------------------------------------------------

AuditLog::AuditLog(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

AuditLog::~AuditLog() {
  delivery_.reset();
  ::close(fd_);
}

scep::Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& data_dir,
                                                       const config::NotificationsConfig& notifications) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return scep::MakeError(ErrorCode::Internal, "cannot create " + data_dir.string() + ": " + ec.message());
  auto path = data_dir / "audit.jsonl";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot open " + path.string());
  std::unique_ptr<AuditLog> log(new AuditLog(path, fd));
  if (!notifications.webhooks.empty()) {
    log->delivery_ = std::make_unique<Delivery>(std::move(path), data_dir, notifications);
  }
  return log;
}

scep::Result<void> AuditLog::Record(const AuditEvent& event) {
  return RecordLines(AuditEventToJson(event) + "\n");
}

scep::Result<void> AuditLog::RecordLines(std::string_view lines) {
  if (lines.empty()) return {};
  std::unique_lock lock(write_mutex_);
  // One write() on an O_APPEND descriptor: another process appending at the same time cannot split a line.
  if (!WriteAll(fd_, lines)) return SystemError("cannot append to " + path_.string());
  const std::uint64_t mine = ++writes_;
  // Group commit: one fdatasync covers every line written before it started, so concurrent enrollments share a
  // flush instead of queueing one each behind the mutex. Return only once a flush that began after our write ended.
  while (writes_synced_ < mine) {
    if (syncing_) {
      synced_.wait(lock);
      continue;
    }
    syncing_ = true;
    const std::uint64_t covered = writes_;
    lock.unlock();
    const bool flushed = ::fdatasync(fd_) == 0;
    lock.lock();
    syncing_ = false;
    if (flushed) writes_synced_ = covered;
    synced_.notify_all();
    if (!flushed) return SystemError("cannot flush " + path_.string());
  }
  lock.unlock();
  if (delivery_) delivery_->Wake();
  return {};
}

const std::filesystem::path& AuditLog::path() const { return path_; }

}  // namespace gateway
