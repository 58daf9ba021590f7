// EnrollmentRequestStore on the gateway's SQLite file (the table comes from SqliteCertStore's schema version 2).
//
// The server and the `scep-gateway requests` CLI open this file at the same time, from different processes, so
// each write is a BEGIN IMMEDIATE transaction and each decision a compare-and-set on the current status: of two
// admins deciding one request at once, exactly one changes it. Requests arrive at human rates, so one connection
// behind a mutex is enough; there is no group commit here.
#pragma once

#include <memory>
#include <string>

#include "gateway/enrollment_request_store.h"
#include "gateway/sqlite_statement.h"

namespace gateway {

class SqliteRequestStore final : public EnrollmentRequestStore {
 public:
  // Opens an existing file that SqliteCertStore::Open has already created and migrated; fails, naming the
  // version it found, on a missing file or one at an older schema version. Never creates or migrates anything.
  [[nodiscard]] static scep::Result<std::unique_ptr<SqliteRequestStore>> Open(const std::string& path);

  SqliteRequestStore(const SqliteRequestStore&) = delete;
  SqliteRequestStore& operator=(const SqliteRequestStore&) = delete;
  ~SqliteRequestStore() override = default;

  // Stores the request as given (status, reason and decision fields included) and ignores request.id. An empty
  // transaction ID or CSR is refused; a transaction ID that already has a request fails with BadRequest.
  [[nodiscard]] scep::Result<std::int64_t> Add(const EnrollmentRequest& request) override;
  [[nodiscard]] scep::Result<std::optional<EnrollmentRequest>> FindById(std::int64_t id) override;
  [[nodiscard]] scep::Result<std::optional<EnrollmentRequest>> FindByTransaction(
      std::string_view transaction_id) override;
  [[nodiscard]] scep::Result<std::vector<EnrollmentRequest>> List(std::optional<RequestStatus> status) override;
  // Any `from` and `to` are accepted: which moves make sense is the caller's policy.
  [[nodiscard]] scep::Result<bool> Transition(std::int64_t id, RequestStatus from, RequestStatus to,
                                              std::string_view reason, std::string_view decided_by,
                                              std::int64_t at) override;
  // Keeps decided_at, reason and decided_by of the approval (who approved, and when, is the audit record); the
  // issue time is the certificate's issued_at in the certificate store, so `at` is not stored.
  [[nodiscard]] scep::Result<bool> MarkIssued(std::int64_t id, std::string_view serial, std::int64_t at) override;
  [[nodiscard]] scep::Result<int> ExpirePending(std::int64_t now) override;

 private:
  // Prepared once; guarded by db_'s mutex like the connection they belong to.
  struct Statements {
    sqlite::Statement insert, by_id, by_transaction, list_all, list_status, transition, mark_issued, expire;
  };

  SqliteRequestStore() = default;
  [[nodiscard]] scep::Result<void> PrepareStatements();

  [[nodiscard]] scep::Result<std::int64_t> Insert(const EnrollmentRequest& request);
  // Steps an UPDATE whose parameters are bound; returns how many rows it changed.
  [[nodiscard]] scep::Result<int> StepUpdate(sqlite3_stmt* update, std::string_view what);

  // Declared before the statements so that the statements are finalized first.
  sqlite::WriteConnection db_;
  Statements stmts_;
};

}  // namespace gateway
