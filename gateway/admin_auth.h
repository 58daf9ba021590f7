// Who is asking on the admin pages and API: HTTP Basic credentials checked against the admin users file
// (admin_users.h), which is re-read when it changes on disk.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gateway {

struct Credentials {
  std::string user;
  std::string password;
};

// "Authorization: Basic base64(user:password)". The scheme name is case-insensitive (RFC 7617).
[[nodiscard]] std::optional<Credentials> ParseBasicAuth(std::string_view header);

// The users file as last loaded, re-read when it changes on disk so that `scep-gateway users add|remove` takes
// effect without a restart. Thread-safe.
class UserDirectory {
 public:
  explicit UserDirectory(std::string users_file);
  ~UserDirectory();
  UserDirectory(const UserDirectory&) = delete;
  UserDirectory& operator=(const UserDirectory&) = delete;

  [[nodiscard]] bool Verify(const std::string& user, const std::string& password);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gateway
