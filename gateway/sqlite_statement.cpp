#include "gateway/sqlite_statement.h"

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace gateway::sqlite {
namespace {

// Long enough to ride out a checkpoint or a backup holding the lock; short enough that a wedged database shows up
// as failed enrollments rather than hung ones.
constexpr int kBusyTimeoutMs = 5000;

// journal_mode answers with the mode it ended up in; anything but "wal" means readers would block the writer.
scep::Result<void> EnableWal(sqlite3* db, const std::string& path) {
  auto wal = Prepare(db, "PRAGMA journal_mode=WAL");
  if (!wal) return wal.error();
  if (sqlite3_step(wal->get()) != SQLITE_ROW) return ErrorFrom(db, "set WAL journal mode on " + path);
  const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(wal->get(), 0));
  if (mode == nullptr || std::string_view(mode) != "wal") {
    return scep::MakeError(scep::ErrorCode::Internal,
                           "sqlite: " + path + " refused WAL journal mode (got " + (mode ? mode : "nothing") + ")");
  }
  return {};
}

}  // namespace

void CloseConnection::operator()(sqlite3* db) const {
  // close_v2 rather than close: it cannot fail with SQLITE_BUSY, it defers until the last statement is finalized.
  sqlite3_close_v2(db);
}

void FinalizeStatement::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

StatementUse::~StatementUse() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

scep::Error ErrorFrom(sqlite3* db, std::string_view what) {
  std::string detail = "sqlite: ";
  detail += what;
  detail += ": ";
  detail += sqlite3_errmsg(db);  // copes with a null handle ("out of memory")
  return scep::MakeError(scep::ErrorCode::Internal, std::move(detail));
}

scep::Result<Connection> OpenConnection(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (the writer thread, or readers under a mutex).
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  Connection db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) return ErrorFrom(db.get(), "open " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  if (auto wal = EnableWal(db.get(), path); !wal) return wal.error();
  if (auto sync = Exec(db.get(), "PRAGMA synchronous=FULL"); !sync) return sync.error();
  return db;
}

scep::Result<Statement> Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                                    nullptr);
  Statement stmt(raw);
  if (rc != SQLITE_OK) return ErrorFrom(db, "prepare \"" + std::string(sql) + "\"");
  return stmt;
}

scep::Result<void> Exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return ErrorFrom(db, std::string("exec \"") + sql + "\"");
  }
  return {};
}

scep::Result<void> StepToDone(sqlite3* db, sqlite3_stmt* stmt, std::string_view what) {
  StatementUse use(stmt);
  if (sqlite3_step(stmt) != SQLITE_DONE) return ErrorFrom(db, what);  // read the message before the reset
  return {};
}

scep::Result<bool> StepRow(sqlite3* db, sqlite3_stmt* stmt, std::string_view what) {
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorFrom(db, what);
}

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  // A null data pointer would bind NULL, and a default-constructed string_view has one.
  sqlite3_bind_text(stmt, index, text.data() != nullptr ? text.data() : "", static_cast<int>(text.size()),
                    SQLITE_STATIC);
}

void BindBlob(sqlite3_stmt* stmt, int index, std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) {
    sqlite3_bind_zeroblob(stmt, index, 0);
    return;
  }
  sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

void BindInt(sqlite3_stmt* stmt, int index, std::int64_t value) { sqlite3_bind_int64(stmt, index, value); }

std::string ColumnText(sqlite3_stmt* stmt, int index) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, index)));
}

std::vector<std::uint8_t> ColumnBlob(sqlite3_stmt* stmt, int index) {
  const auto* bytes = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, index));
  if (bytes == nullptr) return {};
  return std::vector<std::uint8_t>(bytes, bytes + sqlite3_column_bytes(stmt, index));
}

std::int64_t ColumnInt(sqlite3_stmt* stmt, int index) { return sqlite3_column_int64(stmt, index); }

scep::Result<void> PrepareAll(sqlite3* db, std::span<const WantedStatement> wanted) {
  for (const WantedStatement& want : wanted) {
    auto stmt = Prepare(db, want.sql);
    if (!stmt) return stmt.error();
    *want.slot = std::move(*stmt);
  }
  return {};
}

scep::Result<void> RequireSchemaVersion(sqlite3* db, const std::string& path, std::string_view who,
                                        int min_version, int max_version) {
  auto stmt = Prepare(db, "PRAGMA user_version");
  if (!stmt) return stmt.error();
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return ErrorFrom(db, "read schema version of " + path);
  const int version = sqlite3_column_int(stmt->get(), 0);
  if (version < min_version || version > max_version) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           std::string(who) + ": " + path + " has schema version " + std::to_string(version) +
                               ", expected " + std::to_string(min_version) + " to " + std::to_string(max_version) +
                               " (open it with the certificate store first, which migrates it)");
  }
  return {};
}

scep::Result<void> WriteConnection::OpenExisting(const std::string& path, std::string_view who, int min_version,
                                                 int max_version) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           std::string(who) + ": " + path + " is not an existing database file");
  }
  auto db = OpenConnection(path);
  if (!db) return db.error();
  if (auto schema = RequireSchemaVersion(db->get(), path, who, min_version, max_version); !schema) {
    return schema.error();
  }
  db_ = std::move(*db);
  const WantedStatement wanted[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
  };
  return PrepareAll(db_.get(), wanted);
}

scep::Result<void> WriteConnection::Begin() {
  return StepToDone(db_.get(), begin_.get(), "begin write transaction");
}

scep::Result<void> WriteConnection::Commit() { return StepToDone(db_.get(), commit_.get(), "commit"); }

void WriteConnection::RollBackIfOpen() {
  if (sqlite3_get_autocommit(db_.get()) == 0) (void)StepToDone(db_.get(), rollback_.get(), "roll back");
}

}  // namespace gateway::sqlite
