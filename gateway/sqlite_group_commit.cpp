// The write side of SqliteCertStore: group commit.
//
// With synchronous=FULL every COMMIT costs an fsync of the WAL, which is milliseconds on real disks. One writer
// thread therefore takes everything queued while the previous fsync ran and commits it as one transaction: callers
// still return only after their row is on disk, but N concurrent enrollments pay for one fsync, not N in series.
#include <string>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "gateway/sqlite_cert_store.h"

namespace gateway {

SqliteCertStore::~SqliteCertStore() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  // The writer commits whatever is still queued before it leaves, so no waiting Put is abandoned.
  if (writer_.joinable()) writer_.join();
}

scep::Result<void> SqliteCertStore::Put(const IssuedCert& cert) { return PutAndAudit(cert, {}); }

scep::Result<void> SqliteCertStore::PutAndAudit(const IssuedCert& cert, std::string_view audit_line) {
  if (cert.serial.empty()) {
    return scep::MakeError(scep::ErrorCode::Internal, "refusing to store a certificate without a serial");
  }
  if (cert.der.empty()) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           "refusing to store certificate " + cert.serial + " without its DER");
  }
  PendingWrite write;
  write.insert = &cert;
  write.audit_line = audit_line;
  auto outcome = Enqueue(write);
  if (!outcome) return outcome.error();
  return {};
}

scep::Result<bool> SqliteCertStore::Revoke(std::string_view serial, int reason, std::int64_t at) {
  PendingWrite write;
  write.revoke_serial = serial;
  write.revoke_reason = reason;
  write.revoke_at = at;
  return Enqueue(write);
}

scep::Result<bool> SqliteCertStore::Enqueue(PendingWrite& write) {
  std::unique_lock lock(queue_mutex_);
  if (stopping_ || !writer_running_) {
    return scep::MakeError(scep::ErrorCode::Internal, "certificate store is closing; write refused");
  }
  queue_.push_back(&write);
  queue_ready_.notify_one();
  write_done_.wait(lock, [&write] { return write.done; });
  return std::move(*write.outcome);
}

void SqliteCertStore::RunWriter() {
  std::vector<PendingWrite*> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {  // stopping, and everything accepted has been committed
        writer_running_ = false;
        return;
      }
      batch.swap(queue_);  // the queue keeps the old batch's capacity: no allocation in steady state
    }
    CommitBatch(batch);
    AuditCommitted(batch);
    {
      std::lock_guard lock(queue_mutex_);
      // After this a waiter may return and destroy its PendingWrite: nothing below touches the batch's entries.
      for (PendingWrite* write : batch) write->done = true;
    }
    write_done_.notify_all();
    batch.clear();
  }
}

// Every entry leaves with an outcome. A row that fails on its own (a duplicate serial) fails only its caller:
// SQLite's default ABORT conflict handling undoes just that statement and keeps the transaction open. Errors that
// end the transaction (disk full, I/O), and a failed COMMIT, fail the whole batch, since none of it is on disk.
void SqliteCertStore::CommitBatch(const std::vector<PendingWrite*>& batch) {
  commit_batches_.fetch_add(1, std::memory_order_relaxed);
  sqlite3* db = writer_db_.get();
  auto fail_all = [&](const scep::Error& error) {
    for (PendingWrite* write : batch) write->outcome = error;
    std::lock_guard lock(queue_mutex_);
    last_commit_error_ = error.detail;
  };

  if (auto begun = sqlite::StepToDone(db, writer_stmts_.begin.get(), "begin write transaction"); !begun) {
    return fail_all(begun.error());
  }
  for (PendingWrite* write : batch) {
    write->outcome = ApplyWrite(*write);
    if (!write->outcome->ok() && sqlite3_get_autocommit(db) != 0) {
      return fail_all(scep::MakeError(scep::ErrorCode::Internal,
                                      "write transaction rolled back: " + write->outcome->error().detail));
    }
  }
  if (auto committed = sqlite::StepToDone(db, writer_stmts_.commit.get(), "commit"); !committed) {
    if (sqlite3_get_autocommit(db) == 0) {
      // Leave the connection usable for the next batch; the commit error is the one the callers need.
      (void)sqlite::StepToDone(db, writer_stmts_.rollback.get(), "roll back");
    }
    return fail_all(committed.error());
  }
  std::lock_guard lock(queue_mutex_);
  last_commit_error_.clear();
}

// The audit lines of the rows this batch committed, in one append and one flush. A failure is logged, not
// returned: the certificates are stored and the callers get them, as with a failed AuditSink::Record.
void SqliteCertStore::AuditCommitted(const std::vector<PendingWrite*>& batch) {
  if (audit_ == nullptr) return;
  std::string lines;
  for (const PendingWrite* write : batch) {
    if (write->insert != nullptr && write->outcome->ok()) lines += write->audit_line;
  }
  if (lines.empty()) return;
  if (auto recorded = audit_->RecordLines(lines); !recorded) {
    spdlog::error("audit: cannot record issued certificates: {}", recorded.error().ToString());
  }
}

scep::Result<bool> SqliteCertStore::ApplyWrite(const PendingWrite& write) {
  if (write.insert == nullptr) return ApplyRevoke(write);
  const IssuedCert& cert = *write.insert;
  sqlite3_stmt* stmt = writer_stmts_.insert.get();
  const std::string status = to_string(cert.status);
  // Same order as kColumns in sqlite_cert_store.cpp.
  sqlite::BindAll(stmt, cert.serial, cert.issuer, cert.subject, cert.sans, cert.not_before, cert.not_after,
                  cert.issued_at, cert.transaction_id, cert.request_fingerprint, cert.message_type, cert.der, status,
                  cert.revoked_at, cert.revocation_reason);
  if (auto stored = sqlite::StepToDone(writer_db_.get(), stmt, "store certificate " + cert.serial); !stored) {
    return stored.error();
  }
  return true;
}

scep::Result<bool> SqliteCertStore::ApplyRevoke(const PendingWrite& write) {
  sqlite3* db = writer_db_.get();
  sqlite3_stmt* revoke = writer_stmts_.revoke.get();
  sqlite::BindAll(revoke, write.revoke_serial, write.revoke_at, write.revoke_reason);
  const std::string what = "revoke certificate " + std::string(write.revoke_serial);
  if (auto revoked = sqlite::StepToDone(db, revoke, what); !revoked) return revoked.error();
  if (sqlite3_changes(db) > 0) return true;

  // Nothing changed: either the serial is unknown, or it was already revoked (which still counts as known).
  sqlite3_stmt* exists = writer_stmts_.exists.get();
  sqlite::StatementUse use(exists);
  sqlite::BindText(exists, 1, write.revoke_serial);
  const int rc = sqlite3_step(exists);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite::ErrorFrom(db, what);
}

}  // namespace gateway
