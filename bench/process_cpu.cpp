#include "bench/process_cpu.h"

#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace bench {

std::optional<ProcessCpu> ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  // After ')': state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15).
  for (int index = 3; index <= 13; ++index) fields >> field;
  unsigned long long utime_ticks = 0, stime_ticks = 0;
  if (!(fields >> utime_ticks >> stime_ticks)) return std::nullopt;
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return std::nullopt;
  const auto ticks = static_cast<double>(ticks_per_second);
  return ProcessCpu{static_cast<double>(utime_ticks) / ticks, static_cast<double>(stime_ticks) / ticks};
}

}  // namespace bench
