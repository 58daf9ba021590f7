// The embedded CA's files on disk. Keys are created private (0600) from the first byte and appear atomically, so a
// crash leaves either the old state or the complete new file, never a truncated key.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

#include "scep/result.h"

namespace ca {

// Creates `dir` (mode 0700) if it does not exist; its parent must exist.
[[nodiscard]] scep::Result<void> EnsureDirectory(const std::string& dir);
bool FileExists(const std::string& path);
// Writes `contents` to a fresh temporary file beside `path` (O_CREAT|O_EXCL, `mode`), fsyncs it, renames it over
// `path` and fsyncs the directory.
[[nodiscard]] scep::Result<void> WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode);
[[nodiscard]] scep::Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace ca
