// CPU time a process has used so far, read from /proc/PID/stat (Linux only).
#pragma once

#include <optional>
#include <sys/types.h>

namespace bench {

// CPU seconds a process (all its threads) has used, split as the kernel accounts it.
struct ProcessCpu {
  double user = 0;    // utime
  double system = 0;  // stime: syscalls (network, fsync, futex hand-offs) on the process's behalf
  [[nodiscard]] double Total() const { return user + system; }
  ProcessCpu operator-(const ProcessCpu& earlier) const { return {user - earlier.user, system - earlier.system}; }
};

// nullopt when /proc/PID/stat cannot be read.
[[nodiscard]] std::optional<ProcessCpu> ProcessCpuSeconds(pid_t pid);

}  // namespace bench
