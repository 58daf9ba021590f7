// Opening, schema migration and the read side of SqliteCertStore. The write side (group commit) is in
// sqlite_group_commit.cpp.
#include "gateway/sqlite_cert_store.h"

#include <sqlite3.h>

#include <iterator>
#include <system_error>
#include <utility>

namespace gateway {
namespace {

struct Migration {
  int to_version;   // the step takes a file from to_version - 1 to to_version
  const char* sql;  // may hold several statements
};

// Append a step for each schema change; never edit one that has shipped, files in the field already ran it.
// Version 0 is SQLite's default user_version: a file we just created.
constexpr Migration kMigrations[] = {
    {1, R"sql(
      CREATE TABLE issued_certs (
        serial              TEXT    NOT NULL PRIMARY KEY,
        issuer              TEXT    NOT NULL,
        subject             TEXT    NOT NULL,
        sans                TEXT    NOT NULL,
        not_before          INTEGER NOT NULL,
        not_after           INTEGER NOT NULL,
        issued_at           INTEGER NOT NULL,
        transaction_id      TEXT    NOT NULL,
        request_fingerprint TEXT    NOT NULL,
        message_type        TEXT    NOT NULL,
        der                 BLOB    NOT NULL,
        status              TEXT    NOT NULL CHECK (status IN ('issued', 'revoked')),
        revoked_at          INTEGER NOT NULL DEFAULT 0,
        revocation_reason   INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX issued_certs_by_transaction ON issued_certs (transaction_id);
      CREATE INDEX issued_certs_by_status ON issued_certs (status);
      CREATE INDEX issued_certs_by_issued_at ON issued_certs (issued_at, serial);
    )sql"},
    // One-time challenge passwords (SqliteChallengeStore) and requests held for approval (SqliteRequestStore).
    // They live in this file so that one backup holds all the gateway's state, and this migration list stays the
    // only owner of user_version.
    {2, R"sql(
      CREATE TABLE one_time_challenges (
        endpoint        TEXT    NOT NULL,
        password_hash   TEXT    NOT NULL,
        created_at      INTEGER NOT NULL,
        expires_at      INTEGER NOT NULL,
        used_at         INTEGER NOT NULL DEFAULT 0,
        subject_pattern TEXT    NOT NULL,
        created_by      TEXT    NOT NULL,
        PRIMARY KEY (endpoint, password_hash)
      );
      CREATE INDEX one_time_challenges_outstanding ON one_time_challenges (endpoint, used_at, expires_at);
      CREATE TABLE enrollment_requests (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint            TEXT    NOT NULL,
        transaction_id      TEXT    NOT NULL UNIQUE,
        request_fingerprint TEXT    NOT NULL,
        message_type        TEXT    NOT NULL,
        subject             TEXT    NOT NULL,
        sans                TEXT    NOT NULL,
        client_address      TEXT    NOT NULL,
        csr                 BLOB    NOT NULL,
        status              TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'issued')),
        reason              TEXT    NOT NULL DEFAULT '',
        decided_by          TEXT    NOT NULL DEFAULT '',
        created_at          INTEGER NOT NULL,
        expires_at          INTEGER NOT NULL,
        decided_at          INTEGER NOT NULL DEFAULT 0,
        serial              TEXT    NOT NULL DEFAULT ''
      );
      CREATE INDEX enrollment_requests_by_status ON enrollment_requests (status, expires_at);
    )sql"},
};
static_assert(std::size(kMigrations) == SqliteCertStore::kSchemaVersion,
              "one migration step per schema version, in order");

// The column order every SELECT uses and DecodeRow expects; the INSERT in sqlite_group_commit.cpp matches it.
constexpr const char* kColumns =
    "serial, issuer, subject, sans, not_before, not_after, issued_at, transaction_id, request_fingerprint, "
    "message_type, der, status, revoked_at, revocation_reason";

scep::Result<int> ReadSchemaVersion(sqlite3* db) {
  auto stmt = sqlite::Prepare(db, "PRAGMA user_version");
  if (!stmt) return stmt.error();
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return sqlite::ErrorFrom(db, "read schema version");
  return sqlite3_column_int(stmt->get(), 0);
}

// Runs inside the caller's transaction, so a step that fails leaves the file at the version it had.
scep::Result<void> ApplyMigrations(sqlite3* db, const std::string& path) {
  auto version = ReadSchemaVersion(db);
  if (!version) return version.error();
  if (*version > SqliteCertStore::kSchemaVersion) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           path + " has schema version " + std::to_string(*version) +
                               ", newer than this gateway understands (" +
                               std::to_string(SqliteCertStore::kSchemaVersion) + ")");
  }
  for (const Migration& step : kMigrations) {
    if (step.to_version <= *version) continue;
    if (auto ran = sqlite::Exec(db, step.sql); !ran) return ran.error();
    // user_version lives in the file header and is written by this same transaction.
    const std::string bump = "PRAGMA user_version = " + std::to_string(step.to_version);
    if (auto bumped = sqlite::Exec(db, bump.c_str()); !bumped) return bumped.error();
  }
  return {};
}

// IMMEDIATE takes the write lock up front, so two processes opening a new file at once cannot both create it.
scep::Result<void> Migrate(sqlite3* db, const std::string& path) {
  if (auto begun = sqlite::Exec(db, "BEGIN IMMEDIATE"); !begun) return begun.error();
  if (auto migrated = ApplyMigrations(db, path); !migrated) {
    (void)sqlite::Exec(db, "ROLLBACK");  // the migration error is the one worth reporting
    return migrated.error();
  }
  if (auto committed = sqlite::Exec(db, "COMMIT"); !committed) {
    (void)sqlite::Exec(db, "ROLLBACK");
    return committed.error();
  }
  return {};
}

scep::Result<CertStatus> DecodeStatus(const std::string& text) {
  if (text == to_string(CertStatus::Issued)) return CertStatus::Issued;
  if (text == to_string(CertStatus::Revoked)) return CertStatus::Revoked;
  return scep::MakeError(scep::ErrorCode::Internal, "stored certificate has unknown status \"" + text + "\"");
}

scep::Result<IssuedCert> DecodeRow(sqlite3_stmt* stmt) {
  IssuedCert cert;
  cert.serial = sqlite::ColumnText(stmt, 0);
  cert.issuer = sqlite::ColumnText(stmt, 1);
  cert.subject = sqlite::ColumnText(stmt, 2);
  cert.sans = sqlite::ColumnText(stmt, 3);
  cert.not_before = sqlite::ColumnInt(stmt, 4);
  cert.not_after = sqlite::ColumnInt(stmt, 5);
  cert.issued_at = sqlite::ColumnInt(stmt, 6);
  cert.transaction_id = sqlite::ColumnText(stmt, 7);
  cert.request_fingerprint = sqlite::ColumnText(stmt, 8);
  cert.message_type = sqlite::ColumnText(stmt, 9);
  cert.der = sqlite::ColumnBlob(stmt, 10);
  auto status = DecodeStatus(sqlite::ColumnText(stmt, 11));
  if (!status) return scep::MakeError(status.error().code, status.error().detail + " (serial " + cert.serial + ")");
  cert.status = *status;
  cert.revoked_at = sqlite::ColumnInt(stmt, 12);
  cert.revocation_reason = static_cast<int>(sqlite::ColumnInt(stmt, 13));
  return cert;
}

std::string Select(const char* rest) { return std::string("SELECT ") + kColumns + " FROM issued_certs " + rest; }

}  // namespace

scep::Result<std::unique_ptr<SqliteCertStore>> SqliteCertStore::Open(const std::string& path) {
  auto writer_db = sqlite::OpenConnection(path);
  if (!writer_db) return writer_db.error();
  if (auto migrated = Migrate(writer_db->get(), path); !migrated) return migrated.error();
  auto reader_db = sqlite::OpenConnection(path);
  if (!reader_db) return reader_db.error();

  std::unique_ptr<SqliteCertStore> store(new SqliteCertStore());  // the constructor is private
  store->writer_db_ = std::move(*writer_db);
  store->reader_db_ = std::move(*reader_db);
  if (auto prepared = store->PrepareStatements(); !prepared) return prepared.error();

  store->writer_running_ = true;  // no other thread can see the store yet
  try {
    store->writer_ = std::thread([raw = store.get()] { raw->RunWriter(); });
  } catch (const std::system_error& e) {
    store->writer_running_ = false;
    return scep::MakeError(scep::ErrorCode::Internal, std::string("cannot start the store's writer thread: ") +
                                                          e.what());
  }
  return store;
}

scep::Result<void> SqliteCertStore::PrepareStatements() {
  const std::string placeholders = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14";
  const sqlite::WantedStatement writer[] = {
      {&writer_stmts_.begin, "BEGIN IMMEDIATE"},
      {&writer_stmts_.commit, "COMMIT"},
      {&writer_stmts_.rollback, "ROLLBACK"},
      {&writer_stmts_.insert, std::string("INSERT INTO issued_certs (") + kColumns + ") VALUES (" + placeholders + ")"},
      // Only an issued certificate changes: a second revocation keeps the first date and reason.
      {&writer_stmts_.revoke,
       "UPDATE issued_certs SET status = 'revoked', revoked_at = ?2, revocation_reason = ?3 "
       "WHERE serial = ?1 AND status = 'issued'"},
      {&writer_stmts_.exists, "SELECT 1 FROM issued_certs WHERE serial = ?1"},
  };
  const sqlite::WantedStatement reader[] = {
      // rowid breaks ties between rows issued in the same second: the later insert is the more recent.
      {&reader_stmts_.by_transaction, Select("WHERE transaction_id = ?1 ORDER BY issued_at DESC, rowid DESC LIMIT 1")},
      {&reader_stmts_.by_serial, Select("WHERE serial = ?1")},
      {&reader_stmts_.list, Select("ORDER BY issued_at, serial")},
      {&reader_stmts_.list_revoked, Select("WHERE status = 'revoked' ORDER BY revoked_at, serial")},
      {&reader_stmts_.count, "SELECT count(*) FROM issued_certs"},
      {&reader_stmts_.schema_version, "PRAGMA user_version"},
  };
  if (auto prepared = sqlite::PrepareAll(writer_db_.get(), writer); !prepared) return prepared.error();
  return sqlite::PrepareAll(reader_db_.get(), reader);
}

std::uint64_t SqliteCertStore::commit_batches() const { return commit_batches_.load(std::memory_order_relaxed); }

scep::Result<std::optional<IssuedCert>> SqliteCertStore::ReadOne(sqlite3_stmt* stmt, std::string_view key) {
  sqlite::BindText(stmt, 1, key);
  return sqlite::ReadOne(reader_db_.get(), stmt, "look up certificate " + std::string(key), DecodeRow);
}

scep::Result<std::vector<IssuedCert>> SqliteCertStore::ReadAll(sqlite3_stmt* stmt) {
  return sqlite::ReadAll(reader_db_.get(), stmt, "list certificates", DecodeRow);
}

scep::Result<std::optional<IssuedCert>> SqliteCertStore::FindByTransaction(std::string_view transaction_id) {
  std::lock_guard lock(read_mutex_);
  return ReadOne(reader_stmts_.by_transaction.get(), transaction_id);
}

scep::Result<std::optional<IssuedCert>> SqliteCertStore::FindBySerial(std::string_view serial) {
  std::lock_guard lock(read_mutex_);
  return ReadOne(reader_stmts_.by_serial.get(), serial);
}

scep::Result<std::vector<IssuedCert>> SqliteCertStore::List() {
  std::lock_guard lock(read_mutex_);
  return ReadAll(reader_stmts_.list.get());
}

scep::Result<std::vector<IssuedCert>> SqliteCertStore::ListRevoked() {
  std::lock_guard lock(read_mutex_);
  return ReadAll(reader_stmts_.list_revoked.get());
}

scep::Result<std::int64_t> SqliteCertStore::Count() {
  std::lock_guard lock(read_mutex_);
  sqlite3_stmt* stmt = reader_stmts_.count.get();
  sqlite::StatementUse use(stmt);
  if (sqlite3_step(stmt) != SQLITE_ROW) return sqlite::ErrorFrom(reader_db_.get(), "count certificates");
  return sqlite::ColumnInt(stmt, 0);
}

scep::Result<void> SqliteCertStore::Check() {
  {
    // Reading the header proves the file is still there and readable; the version proves it is still ours.
    std::lock_guard lock(read_mutex_);
    sqlite3_stmt* stmt = reader_stmts_.schema_version.get();
    sqlite::StatementUse use(stmt);
    if (sqlite3_step(stmt) != SQLITE_ROW) return sqlite::ErrorFrom(reader_db_.get(), "read schema version");
    if (const auto version = sqlite::ColumnInt(stmt, 0); version != kSchemaVersion) {
      return scep::MakeError(scep::ErrorCode::Internal,
                             "certificate store schema version changed under us: " + std::to_string(version));
    }
  }
  std::lock_guard lock(queue_mutex_);
  if (!writer_running_) return scep::MakeError(scep::ErrorCode::Internal, "certificate store writer is not running");
  if (!last_commit_error_.empty()) {
    return scep::MakeError(scep::ErrorCode::Internal, "certificate store cannot commit: " + last_commit_error_);
  }
  return {};
}

}  // namespace gateway
