// CPU time a process has used so far, read from /proc/PID/stat (Linux only).
#pragma once

#include <optional>
#include <sys/types.h>

namespace bench {

// utime + stime of the process (all its threads) in seconds; nullopt when the process cannot be read.
[[nodiscard]] std::optional<double> ProcessCpuSeconds(pid_t pid);

}  // namespace bench
