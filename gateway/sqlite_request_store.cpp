#include "gateway/sqlite_request_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "gateway/sqlite_cert_store.h"

namespace gateway {
namespace {

// The schema version that added the enrollment_requests table.
constexpr int kFirstSchemaWithRequests = 2;

// Only SqliteCertStore migrates (it owns user_version); a file it has not brought up to date is refused here
// rather than used half-made.
scep::Result<void> RequireSchema(sqlite3* db, const std::string& path) {
  auto stmt = sqlite::Prepare(db, "PRAGMA user_version");
  if (!stmt) return stmt.error();
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return sqlite::ErrorFrom(db, "read schema version of " + path);
  const int version = sqlite3_column_int(stmt->get(), 0);
  if (version < kFirstSchemaWithRequests || version > SqliteCertStore::kSchemaVersion) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           "request store: " + path + " has schema version " + std::to_string(version) +
                               ", expected " + std::to_string(kFirstSchemaWithRequests) + " to " +
                               std::to_string(SqliteCertStore::kSchemaVersion) +
                               " (open it with the certificate store first, which migrates it)");
  }
  return {};
}

// Every column but id, in the order of the INSERT's parameters ?1..?15 and of DecodeRow's columns 1..15.
constexpr const char* kColumns =
    "endpoint, transaction_id, request_fingerprint, message_type, subject, sans, client_address, csr, status, "
    "reason, decided_by, created_at, expires_at, decided_at, serial";

std::string Select(const char* rest) {
  return std::string("SELECT id, ") + kColumns + " FROM enrollment_requests " + rest;
}

scep::Result<EnrollmentRequest> DecodeRow(sqlite3_stmt* stmt) {
  EnrollmentRequest request;
  request.id = sqlite::ColumnInt(stmt, 0);
  request.endpoint = sqlite::ColumnText(stmt, 1);
  request.transaction_id = sqlite::ColumnText(stmt, 2);
  request.request_fingerprint = sqlite::ColumnText(stmt, 3);
  request.message_type = sqlite::ColumnText(stmt, 4);
  request.subject = sqlite::ColumnText(stmt, 5);
  request.sans = sqlite::ColumnText(stmt, 6);
  request.client_address = sqlite::ColumnText(stmt, 7);
  request.csr = sqlite::ColumnBlob(stmt, 8);
  const std::string status = sqlite::ColumnText(stmt, 9);
  const auto parsed = ParseRequestStatus(status);
  if (!parsed) {
    return scep::MakeError(scep::ErrorCode::Internal, "stored enrollment request " + std::to_string(request.id) +
                                                          " has unknown status \"" + status + "\"");
  }
  request.status = *parsed;
  request.reason = sqlite::ColumnText(stmt, 10);
  request.decided_by = sqlite::ColumnText(stmt, 11);
  request.created_at = sqlite::ColumnInt(stmt, 12);
  request.expires_at = sqlite::ColumnInt(stmt, 13);
  request.decided_at = sqlite::ColumnInt(stmt, 14);
  request.serial = sqlite::ColumnText(stmt, 15);
  return request;
}

}  // namespace

scep::Result<std::unique_ptr<SqliteRequestStore>> SqliteRequestStore::Open(const std::string& path) {
  // Opening would create a missing file; an empty new file is never what the caller meant.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return scep::MakeError(scep::ErrorCode::Internal, "request store: " + path + " is not an existing database file");
  }
  auto db = sqlite::OpenConnection(path);
  if (!db) return db.error();
  if (auto schema = RequireSchema(db->get(), path); !schema) return schema.error();

  std::unique_ptr<SqliteRequestStore> store(new SqliteRequestStore());  // the constructor is private
  store->db_ = std::move(*db);
  if (auto prepared = store->PrepareStatements(); !prepared) return prepared.error();
  return store;
}

scep::Result<void> SqliteRequestStore::PrepareStatements() {
  struct Wanted {
    sqlite::Statement* slot;
    std::string sql;
  };
  const Wanted wanted[] = {
      {&stmts_.begin, "BEGIN IMMEDIATE"},
      {&stmts_.commit, "COMMIT"},
      {&stmts_.rollback, "ROLLBACK"},
      {&stmts_.insert, std::string("INSERT INTO enrollment_requests (") + kColumns +
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"},
      {&stmts_.by_id, Select("WHERE id = ?1")},
      {&stmts_.by_transaction, Select("WHERE transaction_id = ?1")},
      {&stmts_.list_all, Select("ORDER BY id")},
      {&stmts_.list_status, Select("WHERE status = ?1 ORDER BY id")},
      // The status in the WHERE clause is the compare-and-set: a request decided meanwhile changes no row.
      {&stmts_.transition,
       "UPDATE enrollment_requests SET status = ?3, reason = ?4, decided_by = ?5, decided_at = ?6 "
       "WHERE id = ?1 AND status = ?2"},
      {&stmts_.mark_issued,
       "UPDATE enrollment_requests SET status = 'issued', serial = ?2 WHERE id = ?1 AND status = 'approved'"},
      {&stmts_.expire,
       "UPDATE enrollment_requests SET status = 'denied', reason = 'expired', decided_by = 'expiry', "
       "decided_at = ?1 WHERE status = 'pending' AND expires_at <= ?1"},
  };
  for (const Wanted& want : wanted) {
    auto stmt = sqlite::Prepare(db_.get(), want.sql);
    if (!stmt) return stmt.error();
    *want.slot = std::move(*stmt);
  }
  return {};
}

// BEGIN IMMEDIATE takes the write lock before anything is read, so nothing another connection commits can slip in
// between. When the body or the commit fails, rolls back so that the connection is out of any transaction for the
// next call; that failure is what the caller gets.
template <typename Body>
auto SqliteRequestStore::InWriteTransaction(Body body) -> decltype(body()) {
  std::lock_guard lock(mutex_);
  sqlite3* db = db_.get();
  if (auto begun = sqlite::StepToDone(db, stmts_.begin.get(), "begin write transaction"); !begun) {
    return begun.error();
  }
  auto outcome = body();
  if (outcome) {
    auto committed = sqlite::StepToDone(db, stmts_.commit.get(), "commit");
    if (committed) return outcome;
    outcome = committed.error();
  }
  if (sqlite3_get_autocommit(db) == 0) (void)sqlite::StepToDone(db, stmts_.rollback.get(), "roll back");
  return outcome;
}

scep::Result<std::int64_t> SqliteRequestStore::Add(const EnrollmentRequest& request) {
  if (request.transaction_id.empty()) {
    return scep::MakeError(scep::ErrorCode::BadRequest, "refusing to store a request without a transaction ID");
  }
  if (request.csr.empty()) {
    return scep::MakeError(scep::ErrorCode::BadRequest,
                           "refusing to store request " + request.transaction_id + " without its CSR");
  }
  return InWriteTransaction([&] { return Insert(request); });
}

scep::Result<std::int64_t> SqliteRequestStore::Insert(const EnrollmentRequest& request) {
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = stmts_.insert.get();
  sqlite::StatementUse use(stmt);
  // Same order as kColumns.
  sqlite::BindText(stmt, 1, request.endpoint);
  sqlite::BindText(stmt, 2, request.transaction_id);
  sqlite::BindText(stmt, 3, request.request_fingerprint);
  sqlite::BindText(stmt, 4, request.message_type);
  sqlite::BindText(stmt, 5, request.subject);
  sqlite::BindText(stmt, 6, request.sans);
  sqlite::BindText(stmt, 7, request.client_address);
  sqlite::BindBlob(stmt, 8, request.csr);
  const std::string status = to_string(request.status);
  sqlite::BindText(stmt, 9, status);
  sqlite::BindText(stmt, 10, request.reason);
  sqlite::BindText(stmt, 11, request.decided_by);
  sqlite::BindInt(stmt, 12, request.created_at);
  sqlite::BindInt(stmt, 13, request.expires_at);
  sqlite::BindInt(stmt, 14, request.decided_at);
  sqlite::BindText(stmt, 15, request.serial);
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_CONSTRAINT_UNIQUE) {  // extended result codes are on; transaction_id is the only UNIQUE column
    return scep::MakeError(scep::ErrorCode::BadRequest,
                           "transaction ID " + request.transaction_id + " already has an enrollment request");
  }
  if (rc != SQLITE_DONE) return sqlite::ErrorFrom(db, "store enrollment request " + request.transaction_id);
  return sqlite3_last_insert_rowid(db);
}

scep::Result<int> SqliteRequestStore::StepUpdate(sqlite3_stmt* update, std::string_view what) {
  sqlite3* db = db_.get();
  if (auto stepped = sqlite::StepToDone(db, update, what); !stepped) return stepped.error();
  return sqlite3_changes(db);
}

scep::Result<bool> SqliteRequestStore::Transition(std::int64_t id, RequestStatus from, RequestStatus to,
                                                  std::string_view reason, std::string_view decided_by,
                                                  std::int64_t at) {
  const std::string from_text = to_string(from);
  const std::string to_text = to_string(to);
  return InWriteTransaction([&]() -> scep::Result<bool> {
    sqlite3_stmt* stmt = stmts_.transition.get();
    sqlite::BindInt(stmt, 1, id);
    sqlite::BindText(stmt, 2, from_text);
    sqlite::BindText(stmt, 3, to_text);
    sqlite::BindText(stmt, 4, reason);
    sqlite::BindText(stmt, 5, decided_by);
    sqlite::BindInt(stmt, 6, at);
    auto changed = StepUpdate(stmt, "move enrollment request " + std::to_string(id) + " to " + to_text);
    if (!changed) return changed.error();
    return *changed == 1;
  });
}

scep::Result<bool> SqliteRequestStore::MarkIssued(std::int64_t id, std::string_view serial,
                                                  [[maybe_unused]] std::int64_t at) {
  return InWriteTransaction([&]() -> scep::Result<bool> {
    sqlite3_stmt* stmt = stmts_.mark_issued.get();
    sqlite::BindInt(stmt, 1, id);
    sqlite::BindText(stmt, 2, serial);
    auto changed = StepUpdate(stmt, "mark enrollment request " + std::to_string(id) + " issued");
    if (!changed) return changed.error();
    return *changed == 1;
  });
}

scep::Result<int> SqliteRequestStore::ExpirePending(std::int64_t now) {
  return InWriteTransaction([&]() -> scep::Result<int> {
    sqlite3_stmt* stmt = stmts_.expire.get();
    sqlite::BindInt(stmt, 1, now);
    return StepUpdate(stmt, "expire pending enrollment requests");
  });
}

scep::Result<std::optional<EnrollmentRequest>> SqliteRequestStore::ReadOne(sqlite3_stmt* stmt,
                                                                           std::string_view what) {
  // The caller has bound the key and holds mutex_.
  sqlite::StatementUse use(stmt);
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<EnrollmentRequest>();
  if (rc != SQLITE_ROW) return sqlite::ErrorFrom(db_.get(), what);
  auto request = DecodeRow(stmt);
  if (!request) return request.error();
  return std::optional<EnrollmentRequest>(std::move(*request));
}

scep::Result<std::vector<EnrollmentRequest>> SqliteRequestStore::ReadAll(sqlite3_stmt* stmt) {
  sqlite::StatementUse use(stmt);
  std::vector<EnrollmentRequest> requests;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    auto request = DecodeRow(stmt);
    if (!request) return request.error();
    requests.push_back(std::move(*request));
  }
  if (rc != SQLITE_DONE) return sqlite::ErrorFrom(db_.get(), "list enrollment requests");
  return requests;
}

scep::Result<std::optional<EnrollmentRequest>> SqliteRequestStore::FindById(std::int64_t id) {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* stmt = stmts_.by_id.get();
  sqlite::BindInt(stmt, 1, id);
  return ReadOne(stmt, "look up enrollment request " + std::to_string(id));
}

scep::Result<std::optional<EnrollmentRequest>> SqliteRequestStore::FindByTransaction(
    std::string_view transaction_id) {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* stmt = stmts_.by_transaction.get();
  sqlite::BindText(stmt, 1, transaction_id);
  return ReadOne(stmt, "look up enrollment request for transaction " + std::string(transaction_id));
}

scep::Result<std::vector<EnrollmentRequest>> SqliteRequestStore::List(std::optional<RequestStatus> status) {
  std::lock_guard lock(mutex_);
  if (!status) return ReadAll(stmts_.list_all.get());
  const std::string text = to_string(*status);
  sqlite3_stmt* stmt = stmts_.list_status.get();
  sqlite::BindText(stmt, 1, text);
  return ReadAll(stmt);
}

}  // namespace gateway
