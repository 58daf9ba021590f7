// The administrators who may fetch one-time passwords and use the admin API: a users file of
// "name:$argon2id$v=19$m=...,t=...,p=...$salt$hash" lines (Argon2id, random 16-byte salt per user), mode 0600.
// NDES relies on Windows authentication for its admin page; HTTP Basic against this file stands in for it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scep/result.h"

namespace gateway {

class AdminUsers {
 public:
  // A missing file is an empty set of users (nobody may log in); a malformed line is an error naming the line.
  [[nodiscard]] static scep::Result<AdminUsers> Load(const std::string& path);

  // Constant-time with respect to the password; an unknown user costs as much as a wrong password.
  [[nodiscard]] bool Verify(std::string_view name, std::string_view password) const;
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string name;
    std::string encoded_hash;  // argon2id encoded string
  };
  std::vector<Entry> entries_;
};

// User names: 1-64 characters of [A-Za-z0-9._@-]. The file is rewritten atomically (temp file + rename, 0600).
// Adding an existing name replaces its password. Passwords must not be empty. Both read, change and rewrite the
// whole file (comments and blank lines kept; a malformed file is an error and left alone); they are meant for
// the admin CLI, one at a time: two running at once may lose one's change, never corrupt the file.
[[nodiscard]] scep::Result<void> AddAdminUser(const std::string& path, std::string_view name,
                                              std::string_view password);
// False when there was no such user.
[[nodiscard]] scep::Result<bool> RemoveAdminUser(const std::string& path, std::string_view name);

}  // namespace gateway
