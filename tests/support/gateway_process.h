// Runs the real `scep-gateway serve` as a child process for the integration tests in tests/gateway/.
//
// Each GatewayProcess has its own temp dir (data dir, log file, config file) unless the test hands it a data dir,
// listens on a free loopback port, and is ready (GET /healthz answered 200) when the constructor returns. The
// child's stdout and stderr go to a log file the test can read. Destruction sends SIGTERM and waits.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http_client.h"
#include "tests/support/test_files.h"

namespace test {

// The binary under test; SCEP_GATEWAY_BINARY points the tests at another build (a sanitizer build, an install).
inline std::filesystem::path GatewayBinary() {
  const char* override_path = std::getenv("SCEP_GATEWAY_BINARY");
  return override_path != nullptr && *override_path != '\0' ? override_path : BinaryDir() / "gateway/scep-gateway";
}

// Runs the gateway's CLI to completion ("certs list --data-dir D"); returns its exit status, output in *output.
inline int RunGatewayCli(const std::string& args, std::string* output = nullptr) {
  return Run(GatewayBinary().string() + " " + args, output);
}

// `certs list --data-dir D`: its output and the "N certificate(s)" total it ends with (-1 if missing).
struct CertsListing {
  int exit_code = -1;
  std::string output;
  int count = -1;
  bool Has(const std::string& serial_hex) const { return output.find(serial_hex) != std::string::npos; }
};

inline CertsListing ListCerts(const std::filesystem::path& data_dir) {
  CertsListing l;
  l.exit_code = RunGatewayCli("certs list --data-dir '" + data_dir.string() + "'", &l.output);
  const auto end = l.output.rfind(" certificate(s)");
  if (end != std::string::npos) {
    const auto newline = l.output.find_last_of('\n', end);
    const auto start = newline == std::string::npos ? 0 : newline + 1;
    l.count = std::stoi(l.output.substr(start, end - start));
  }
  return l;
}

struct GatewayOptions {
  std::string challenge = "test-challenge";  // passed as --challenge; empty: none (generated or from the config)
  std::string ca_key = "rsa:2048";           // `ca init --key` before the first start; empty: let serve create it
  std::string ca_subject;                    // `ca init --subject`; empty: the default
  std::string config_yaml;                   // written to a file and passed as --config when not empty
  std::vector<std::string> extra_args;       // appended to `serve ...`
  std::filesystem::path data_dir;            // empty: a fresh one inside the process's temp dir
  std::filesystem::path config_file;         // passed as --config as it is (a file of the repo); wins over config_yaml
};

// A loopback port nobody listens on right now: bind port 0, read the port back, close. Another process may take
// it before the gateway binds, which is why GatewayProcess retries with a new port.
inline std::uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

class GatewayProcess {
 public:
  explicit GatewayProcess(GatewayOptions options = {}) : options_(std::move(options)) {
    data_dir_ = options_.data_dir.empty() ? dir_.path() / "data" : options_.data_dir;
    log_path_ = dir_ / "gateway.log";
    if (!options_.ca_key.empty() && !std::filesystem::exists(data_dir_ / "ca.pem")) {
      std::string out;
      std::string cmd = "ca init --data-dir '" + data_dir_.string() + "' --key " + options_.ca_key;
      if (!options_.ca_subject.empty()) cmd += " --subject '" + options_.ca_subject + "'";
      if (RunGatewayCli(cmd, &out) != 0) throw std::runtime_error("scep-gateway ca init failed: " + out);
    }
    if (!options_.config_yaml.empty()) WriteText(dir_ / "gateway.yaml", options_.config_yaml);
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = FreeLoopbackPort();
      if (port_ != 0 && Spawn() && WaitUntilHealthy()) return;
      Stop();  // most likely lost the port to someone else: try another one
    }
    throw std::runtime_error("scep-gateway did not become healthy; its log:\n" + Log());
  }

  ~GatewayProcess() { Stop(); }
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // SIGTERM, then waits (SIGKILL after 20 s). Returns the exit status, 128+signal if killed by a signal, or
  // nullopt if nothing was running.
  std::optional<int> Stop() {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::filesystem::path ca_pem() const { return data_dir_ / "ca.pem"; }
  std::string Log() const { return ReadText(log_path_); }
  std::filesystem::path temp(const std::string& name) const { return dir_ / name; }
  std::filesystem::path store_path() const { return data_dir_ / "store.sqlite"; }
  // The CLI against this gateway's data dir while it runs ("requests approve 3"): --data-dir is appended.
  int Cli(const std::string& args, std::string* output = nullptr) const {
    return RunGatewayCli(args + " --data-dir '" + data_dir_.string() + "'", output);
  }

 private:
  bool Spawn() {
    std::vector<std::string> args{GatewayBinary().string(), "serve",      "--data-dir",
                                  data_dir_.string(),       "--listen",   "127.0.0.1:" + std::to_string(port_)};
    if (!options_.challenge.empty()) args.insert(args.end(), {"--challenge", options_.challenge});
    if (!options_.config_file.empty()) {
      args.insert(args.end(), {"--config", options_.config_file.string()});
    } else if (!options_.config_yaml.empty()) {
      args.insert(args.end(), {"--config", (dir_ / "gateway.yaml").string()});
    }
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = log_path_.string();

    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {  // child: async-signal-safe calls only, the parent may have other threads
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        ::close(fd);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    return true;
  }

  bool WaitUntilHealthy() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: a bind failure or a start-up error
        pid_ = -1;
        return false;
      }
      gateway::HttpClient client("127.0.0.1", port_, std::chrono::seconds(2));
      auto health = client.Get("/healthz");
      // The start-up line naming the port shows that the 200 came from our child, not from whoever else may
      // have taken the port.
      if (health && health->status == 200 && Log().find(":" + std::to_string(port_)) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  GatewayOptions options_;
  TempDir dir_;
  std::filesystem::path data_dir_;
  std::filesystem::path log_path_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// Runs one SQL statement on a gateway's store while the gateway runs (WAL mode: the gateway keeps serving). Only for
// what a test cannot wait for, such as moving an expiry into the past; returns an error text, empty on success.
inline std::string ExecSql(const std::filesystem::path& db_path, const std::string& sql, int* changes = nullptr) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    error = "cannot open " + db_path.string();
  } else {
    sqlite3_busy_timeout(db, 10000);
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      error = message != nullptr ? message : "sqlite3_exec failed";
    } else if (changes != nullptr) {
      *changes = sqlite3_changes(db);
    }
    sqlite3_free(message);
  }
  sqlite3_close(db);
  return error;
}

// One HTTP/1.1 request over a fresh socket, the whole response as it came (status line, headers, body): for the
// headers HttpClient does not return (WWW-Authenticate). `extra_headers` are "Name: value\r\n" lines.
struct RawHttpResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  std::string error;
};

inline RawHttpResponse RawHttpGet(std::uint16_t port, const std::string& target,
                                  const std::string& extra_headers = {}) {
  RawHttpResponse r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    r.error = "cannot connect";
    return r;
  }
  const std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers + "\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    r.error = "cannot send";
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; r.error.empty() && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = text.find("\r\n\r\n");
  if (end == std::string::npos || text.size() < 12) {
    if (r.error.empty()) r.error = "no HTTP response";
    return r;
  }
  r.head = text.substr(0, end);
  r.body = text.substr(end + 4);
  r.status = std::atoi(text.c_str() + 9);
  return r;
}

}  // namespace test
