// IssuedCertStore on one SQLite file, for a single gateway instance.
//
// Durability without one fsync per request in series: every write (Put, Revoke) is queued for one writer thread,
// which takes everything queued so far and commits it as one transaction, so one fsync covers the whole batch
// (group commit). Each caller blocks until the batch holding its row is committed and then gets its own outcome.
// Reads use a second connection; WAL lets them run beside the writer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/audit_events.h"
#include "gateway/issued_cert_store.h"
#include "gateway/sqlite_statement.h"

namespace gateway {

class SqliteCertStore final : public IssuedCertStore {
 public:
  // The schema version this build writes; Open migrates older files up to it and refuses newer ones.
  static constexpr int kSchemaVersion = 2;

  // Creates the file and schema if missing (the parent directory must exist); migrates older schema versions.
  [[nodiscard]] static scep::Result<std::unique_ptr<SqliteCertStore>> Open(const std::string& path);

  // Stops accepting writes, commits (or fails) every write already queued, then stops the writer thread.
  ~SqliteCertStore() override;
  SqliteCertStore(const SqliteCertStore&) = delete;
  SqliteCertStore& operator=(const SqliteCertStore&) = delete;

  // How many write transactions ran: fewer than the writes means they were batched.
  [[nodiscard]] std::uint64_t commit_batches() const;

  // Where PutAndAudit's lines go. Set once, before the store is shared; the sink must outlive the store.
  void AttachAudit(AuditSink* sink) { audit_ = sink; }

  [[nodiscard]] scep::Result<void> Put(const IssuedCert& cert) override;
  [[nodiscard]] scep::Result<void> PutAndAudit(const IssuedCert& cert, std::string_view audit_line) override;
  [[nodiscard]] scep::Result<std::optional<IssuedCert>> FindByTransaction(std::string_view transaction_id) override;
  [[nodiscard]] scep::Result<std::optional<IssuedCert>> FindBySerial(std::string_view serial) override;
  [[nodiscard]] scep::Result<std::vector<IssuedCert>> List() override;
  [[nodiscard]] scep::Result<std::vector<IssuedCert>> ListRevoked() override;
  [[nodiscard]] scep::Result<bool> Revoke(std::string_view serial, int reason, std::int64_t at) override;
  [[nodiscard]] scep::Result<std::int64_t> Count() override;
  [[nodiscard]] scep::Result<void> Check() override;

 private:
  // One queued write. It lives on the stack of the Put/Revoke call that waits for it, so the queue only borrows it.
  struct PendingWrite {
    const IssuedCert* insert = nullptr;  // set for Put; otherwise this is a revocation
    std::string_view audit_line;          // PutAndAudit: appended to audit_ once the batch is committed
    std::string_view revoke_serial;
    int revoke_reason = 0;
    std::int64_t revoke_at = 0;
    std::optional<scep::Result<bool>> outcome;  // written by the writer thread before `done`
    bool done = false;                          // guarded by queue_mutex_
  };

  // Statements prepared once on the writer connection; only the writer thread touches them after Open.
  struct WriterStatements {
    sqlite::Statement begin, commit, rollback, insert, revoke, exists;
  };
  // Statements prepared once on the reader connection; guarded by read_mutex_.
  struct ReaderStatements {
    sqlite::Statement by_transaction, by_serial, list, list_revoked, count, schema_version;
  };

  SqliteCertStore() = default;
  [[nodiscard]] scep::Result<void> PrepareStatements();

  [[nodiscard]] scep::Result<bool> Enqueue(PendingWrite& write);
  void RunWriter();
  void CommitBatch(const std::vector<PendingWrite*>& batch);
  void AuditCommitted(const std::vector<PendingWrite*>& batch);
  [[nodiscard]] scep::Result<bool> ApplyWrite(const PendingWrite& write);
  [[nodiscard]] scep::Result<bool> ApplyRevoke(const PendingWrite& write);

  [[nodiscard]] scep::Result<std::optional<IssuedCert>> ReadOne(sqlite3_stmt* stmt, std::string_view key);
  [[nodiscard]] scep::Result<std::vector<IssuedCert>> ReadAll(sqlite3_stmt* stmt);

  // Declared before the statements so that the statements are finalized first.
  AuditSink* audit_ = nullptr;
  sqlite::Connection writer_db_;
  sqlite::Connection reader_db_;
  WriterStatements writer_stmts_;
  ReaderStatements reader_stmts_;
  std::mutex read_mutex_;

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;  // the writer waits here for work or for stopping_
  std::condition_variable write_done_;   // callers wait here for their PendingWrite::done
  std::vector<PendingWrite*> queue_;     // guarded by queue_mutex_
  bool stopping_ = false;                // guarded by queue_mutex_
  bool writer_running_ = false;          // guarded by queue_mutex_
  std::string last_commit_error_;        // guarded by queue_mutex_; empty once a commit succeeds again
  std::atomic<std::uint64_t> commit_batches_{0};
  std::thread writer_;
};

}  // namespace gateway
