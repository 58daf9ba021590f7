#include "gateway/sqlite_request_store.h"

#include <sqlite3.h>

#include <string>

#include "gateway/sqlite_cert_store.h"

namespace gateway {
namespace {

// The schema version that added the enrollment_requests table.
constexpr int kFirstSchemaWithRequests = 2;

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
  std::unique_ptr<SqliteRequestStore> store(new SqliteRequestStore());  // the constructor is private
  if (auto opened =
          store->db_.OpenExisting(path, "request store", kFirstSchemaWithRequests, SqliteCertStore::kSchemaVersion);
      !opened) {
    return opened.error();
  }
  if (auto prepared = store->PrepareStatements(); !prepared) return prepared.error();
  return store;
}

scep::Result<void> SqliteRequestStore::PrepareStatements() {
  const sqlite::WantedStatement wanted[] = {
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
  return sqlite::PrepareAll(db_.get(), wanted);
}

scep::Result<std::int64_t> SqliteRequestStore::Add(const EnrollmentRequest& request) {
  if (request.transaction_id.empty()) {
    return scep::MakeError(scep::ErrorCode::BadRequest, "refusing to store a request without a transaction ID");
  }
  if (request.csr.empty()) {
    return scep::MakeError(scep::ErrorCode::BadRequest,
                           "refusing to store request " + request.transaction_id + " without its CSR");
  }
  return db_.InWriteTransaction([&] { return Insert(request); });
}

scep::Result<std::int64_t> SqliteRequestStore::Insert(const EnrollmentRequest& request) {
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = stmts_.insert.get();
  sqlite::StatementUse use(stmt);
  const std::string status = to_string(request.status);
  // Same order as kColumns.
  sqlite::BindAll(stmt, request.endpoint, request.transaction_id, request.request_fingerprint, request.message_type,
                  request.subject, request.sans, request.client_address, request.csr, status, request.reason,
                  request.decided_by, request.created_at, request.expires_at, request.decided_at, request.serial);
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
  return db_.InWriteTransaction([&]() -> scep::Result<bool> {
    sqlite3_stmt* stmt = stmts_.transition.get();
    sqlite::BindAll(stmt, id, from_text, to_text, reason, decided_by, at);
    auto changed = StepUpdate(stmt, "move enrollment request " + std::to_string(id) + " to " + to_text);
    if (!changed) return changed.error();
    return *changed == 1;
  });
}

scep::Result<bool> SqliteRequestStore::MarkIssued(std::int64_t id, std::string_view serial,
                                                  [[maybe_unused]] std::int64_t at) {
  return db_.InWriteTransaction([&]() -> scep::Result<bool> {
    sqlite3_stmt* stmt = stmts_.mark_issued.get();
    sqlite::BindAll(stmt, id, serial);
    auto changed = StepUpdate(stmt, "mark enrollment request " + std::to_string(id) + " issued");
    if (!changed) return changed.error();
    return *changed == 1;
  });
}

scep::Result<int> SqliteRequestStore::ExpirePending(std::int64_t now) {
  return db_.InWriteTransaction([&]() -> scep::Result<int> {
    sqlite3_stmt* stmt = stmts_.expire.get();
    sqlite::BindInt(stmt, 1, now);
    return StepUpdate(stmt, "expire pending enrollment requests");
  });
}

scep::Result<std::optional<EnrollmentRequest>> SqliteRequestStore::FindById(std::int64_t id) {
  return db_.WithLock([&] {
    sqlite3_stmt* stmt = stmts_.by_id.get();
    sqlite::BindInt(stmt, 1, id);
    return sqlite::ReadOne(db_.get(), stmt, "look up enrollment request " + std::to_string(id), DecodeRow);
  });
}

scep::Result<std::optional<EnrollmentRequest>> SqliteRequestStore::FindByTransaction(
    std::string_view transaction_id) {
  return db_.WithLock([&] {
    sqlite3_stmt* stmt = stmts_.by_transaction.get();
    sqlite::BindText(stmt, 1, transaction_id);
    return sqlite::ReadOne(db_.get(), stmt,
                           "look up enrollment request for transaction " + std::string(transaction_id), DecodeRow);
  });
}

scep::Result<std::vector<EnrollmentRequest>> SqliteRequestStore::List(std::optional<RequestStatus> status) {
  constexpr std::string_view kWhat = "list enrollment requests";
  return db_.WithLock([&] {
    if (!status) return sqlite::ReadAll(db_.get(), stmts_.list_all.get(), kWhat, DecodeRow);
    const std::string text = to_string(*status);
    sqlite3_stmt* stmt = stmts_.list_status.get();
    sqlite::BindText(stmt, 1, text);
    return sqlite::ReadAll(db_.get(), stmt, kWhat, DecodeRow);
  });
}

}  // namespace gateway
