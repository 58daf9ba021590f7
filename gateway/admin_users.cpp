#include "gateway/admin_users.h"

#include <argon2.h>

#include <array>
#include <cstdint>
#include <utility>

#include <openssl/rand.h>

#include "ca-backend/ca_files.h"

namespace gateway {
namespace {

using scep::ErrorCode;

// Argon2id with OWASP's recommended minimum of memory (64 MiB), three passes and one lane: about a tenth of a
// second per hash here. That is far too slow for the SCEP path, but Verify is only called on the admin path (a few
// logins by people), where making each guess of a stolen file cost 64 MiB and ~0.1 s is the point. Hashes written
// with other parameters still verify: argon2id_verify reads them from the encoded string.
constexpr std::uint32_t kTimeCost = 3;
constexpr std::uint32_t kMemoryKiB = 64 * 1024;
constexpr std::uint32_t kLanes = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kMaxNameLength = 64;
constexpr mode_t kUsersFileMode = 0600;
constexpr std::string_view kArgon2idPrefix = "$argon2id$";

bool NameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '@' || c == '-';
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!NameChar(c)) return false;
  }
  return true;
}

scep::Result<std::string> HashPassword(std::string_view password) {
  std::array<std::uint8_t, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "no randomness for a password salt");
  }
  std::string encoded(argon2_encodedlen(kTimeCost, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id), '\0');
  const int rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kLanes, password.data(), password.size(), salt.data(),
                                       salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return scep::MakeError(ErrorCode::Internal, std::string("cannot hash the password: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));  // argon2_encodedlen counts the terminator and some slack
  return encoded;
}

// What an unknown user's password is checked against, so that "no such user" costs what "wrong password" costs.
// Made from the same parameters as new hashes, once per process.
const std::string& DummyHash() {
  static const std::string dummy = [] {
    auto hash = HashPassword("no user has this password");
    return hash ? *hash : std::string();
  }();
  return dummy;
}

// One line of the users file. Comments and blank lines are kept as they are when the file is rewritten.
struct UserLine {
  std::string text;
  std::string name;     // empty: not a user line
  std::string encoded;
};

scep::Result<UserLine> ParseLine(std::string text, const std::string& where) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos || text[first] == '#') return UserLine{std::move(text), {}, {}};
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) return scep::MakeError(ErrorCode::Internal, where + ": expected name:hash");
  std::string name = text.substr(0, colon);
  std::string encoded = text.substr(colon + 1);
  if (!ValidName(name)) {
    return scep::MakeError(ErrorCode::Internal,
                           where + ": user name must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
  }
  if (encoded.compare(0, kArgon2idPrefix.size(), kArgon2idPrefix) != 0) {
    return scep::MakeError(ErrorCode::Internal, where + ": the hash of " + name + " is not an Argon2id hash");
  }
  return UserLine{std::move(text), std::move(name), std::move(encoded)};
}

// A missing file has no lines; a malformed line or a name given twice is an error naming "path:line".
scep::Result<std::vector<UserLine>> ReadUserLines(const std::string& path) {
  if (!ca::FileExists(path)) return std::vector<UserLine>{};
  auto contents = ca::ReadWholeFile(path);
  if (!contents) return contents.error();
  std::vector<UserLine> lines;
  std::size_t start = 0;
  for (int number = 1; start < contents->size(); ++number) {
    std::size_t end = contents->find('\n', start);
    if (end == std::string::npos) end = contents->size();
    std::string text = contents->substr(start, end - start);
    start = end + 1;
    if (!text.empty() && text.back() == '\r') text.pop_back();  // written on Windows
    auto line = ParseLine(std::move(text), path + ":" + std::to_string(number));
    if (!line) return line.error();
    for (const UserLine& earlier : lines) {
      if (!line->name.empty() && earlier.name == line->name) {
        return scep::MakeError(ErrorCode::Internal,
                               path + ":" + std::to_string(number) + ": user " + line->name + " is listed twice");
      }
    }
    lines.push_back(std::move(*line));
  }
  return lines;
}

scep::Result<void> WriteUserLines(const std::string& path, const std::vector<UserLine>& lines) {
  std::string contents;
  for (const UserLine& line : lines) contents.append(line.text).append("\n");
  return ca::WriteFileAtomically(path, contents, kUsersFileMode);
}

}  // namespace

scep::Result<AdminUsers> AdminUsers::Load(const std::string& path) {
  static_cast<void>(DummyHash());  // pay for it at load time, not on the first login of an unknown user
  auto lines = ReadUserLines(path);
  if (!lines) return lines.error();
  AdminUsers users;
  for (UserLine& line : *lines) {
    if (!line.name.empty()) users.entries_.push_back(Entry{std::move(line.name), std::move(line.encoded)});
  }
  return users;
}

bool AdminUsers::Verify(std::string_view name, std::string_view password) const {
  // Names are not secret, so finding the entry may take as long as it likes; the hash work is the same either way.
  const Entry* found = nullptr;
  for (const Entry& entry : entries_) {
    if (entry.name == name) found = &entry;
  }
  const std::string& encoded = found != nullptr ? found->encoded_hash : DummyHash();
  // argon2id_verify compares the digests in constant time.
  const bool match = !encoded.empty() && argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
  return found != nullptr && match;
}

std::vector<std::string> AdminUsers::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& entry : entries_) out.push_back(entry.name);
  return out;
}

scep::Result<void> AddAdminUser(const std::string& path, std::string_view name, std::string_view password) {
  if (!ValidName(name)) {
    return scep::MakeError(ErrorCode::BadRequest, "user name must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
  }
  if (password.empty()) return scep::MakeError(ErrorCode::BadRequest, "the password must not be empty");
  auto lines = ReadUserLines(path);  // a malformed file is reported, never rewritten
  if (!lines) return lines.error();
  auto encoded = HashPassword(password);
  if (!encoded) return encoded.error();
  UserLine user{std::string(name) + ":" + *encoded, std::string(name), *encoded};
  bool replaced = false;
  for (UserLine& line : *lines) {
    if (line.name == name) {
      line = user;
      replaced = true;
    }
  }
  if (!replaced) lines->push_back(std::move(user));
  return WriteUserLines(path, *lines);
}

scep::Result<bool> RemoveAdminUser(const std::string& path, std::string_view name) {
  auto lines = ReadUserLines(path);
  if (!lines) return lines.error();
  const auto before = lines->size();
  std::erase_if(*lines, [&](const UserLine& line) { return !line.name.empty() && line.name == name; });
  if (lines->size() == before) return false;
  if (auto written = WriteUserLines(path, *lines); !written) return written.error();
  return true;
}

}  // namespace gateway
