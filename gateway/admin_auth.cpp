#include "gateway/admin_auth.h"

#include <sys/stat.h>

#include <cctype>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "gateway/admin_users.h"
#include "gateway/message_param.h"
#include "scep/der.h"

namespace gateway {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<Credentials> ParseBasicAuth(std::string_view header) {
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size() || Lower(header.substr(0, kScheme.size())) != kScheme) return std::nullopt;
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  const auto decoded = DecodeLenientBase64(encoded);
  if (!decoded) return std::nullopt;
  const std::string text(decoded->begin(), decoded->end());
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  return Credentials{text.substr(0, colon), text.substr(colon + 1)};
}

// Argon2id is slow on purpose; credentials that verified once against the current file are remembered as a salted
// SHA-256 (salt random per process) so that a scraper fetching a password per device does not pay it every time.
// Failures are never remembered, so guessing still costs a full Argon2id each try.
class UserDirectory::Impl {
 public:
  explicit Impl(std::string path) : path_(std::move(path)) {
    std::random_device random;
    for (auto& b : salt_) b = static_cast<char>(random());
  }

  bool Verify(const std::string& user, const std::string& password) {
    std::uint64_t generation = 0;
    const std::shared_ptr<const AdminUsers> users = Current(&generation);
    const std::string key = scep::ToHex(scep::Sha256(scep::AsBytes(salt_ + user + '\0' + password)));
    {
      std::lock_guard lock(mutex_);
      if (generation == generation_ && verified_.contains(key)) return true;
    }
    if (!users->Verify(user, password)) return false;
    std::lock_guard lock(mutex_);
    if (generation == generation_ && verified_.size() < kMaxRemembered) verified_.insert(key);
    return true;
  }

 private:
  static constexpr std::size_t kMaxRemembered = 256;

  // Identifies one content of the file: `users add` replaces it by rename, which changes the inode even when
  // size and mtime (1 s granularity on some file systems) would not.
  struct FileVersion {
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileVersion&) const = default;
  };

  FileVersion Stat() const {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return {};
    return {true, st.st_dev, st.st_ino, st.st_size,
            std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
  }

  std::shared_ptr<const AdminUsers> Current(std::uint64_t* generation) {
    std::lock_guard lock(mutex_);
    const FileVersion version = Stat();
    if (!users_ || version != version_) {
      auto loaded = AdminUsers::Load(path_);
      if (loaded) {
        users_ = std::make_shared<const AdminUsers>(std::move(*loaded));
      } else {
        // Fail closed: a broken file must not leave a removed user able to log in.
        spdlog::error("admin users file {}: {}; nobody can log in until it is fixed", path_,
                      loaded.error().ToString());
        users_ = std::make_shared<const AdminUsers>();
      }
      if (users_->empty()) spdlog::warn("admin users file {} has no users: run `scep-gateway users add`", path_);
      version_ = version;
      ++generation_;
      verified_.clear();
    }
    *generation = generation_;
    return users_;
  }

  const std::string path_;
  std::string salt_ = std::string(16, '\0');
  std::mutex mutex_;
  FileVersion version_;                        // guarded by mutex_
  std::shared_ptr<const AdminUsers> users_;    // guarded by mutex_
  std::uint64_t generation_ = 0;               // guarded by mutex_; bumped on every reload
  std::set<std::string> verified_;             // guarded by mutex_
};


UserDirectory::UserDirectory(std::string users_file) : impl_(std::make_unique<Impl>(std::move(users_file))) {}
UserDirectory::~UserDirectory() = default;

bool UserDirectory::Verify(const std::string& user, const std::string& password) {
  return impl_->Verify(user, password);
}

}  // namespace gateway
