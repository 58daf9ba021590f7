// Ownership of SQLite connections and prepared statements, and the few calls around them that turn SQLite result
// codes into scep::Error values. Shared by the sqlite_*.cpp files only; nothing outside the SQLite backend needs it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scep/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gateway::sqlite {

struct CloseConnection {
  void operator()(sqlite3* db) const;
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* stmt) const;
};
using Connection = std::unique_ptr<sqlite3, CloseConnection>;
using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

// An Internal error carrying what we were doing and SQLite's own message for the connection's last failure.
// Call it on the thread that made the failing call, before that connection is used again.
[[nodiscard]] scep::Error ErrorFrom(sqlite3* db, std::string_view what);

// Opens (creating if missing) a connection in WAL mode with synchronous=FULL, so that every COMMIT is fsync'd
// before it returns, and a busy timeout so that a checkpoint or an outside reader does not fail a write at once.
[[nodiscard]] scep::Result<Connection> OpenConnection(const std::string& path);

// Prepared once and kept for the life of the connection.
[[nodiscard]] scep::Result<Statement> Prepare(sqlite3* db, std::string_view sql);

// Runs SQL that returns no rows we need (DDL, BEGIN/COMMIT).
[[nodiscard]] scep::Result<void> Exec(sqlite3* db, const char* sql);

// Steps a statement that returns no rows (INSERT, UPDATE, BEGIN, COMMIT) to completion, then resets it.
[[nodiscard]] scep::Result<void> StepToDone(sqlite3* db, sqlite3_stmt* stmt, std::string_view what);

// Bindings borrow the bytes (SQLITE_STATIC): they must outlive the step, which StatementUse bounds. Empty values
// bind as empty, never as NULL. Parameter indexes are 1-based, as in SQL.
void BindText(sqlite3_stmt* stmt, int index, std::string_view text);
void BindBlob(sqlite3_stmt* stmt, int index, std::span<const std::uint8_t> bytes);
void BindInt(sqlite3_stmt* stmt, int index, std::int64_t value);

// Column indexes are 0-based, as in SQLite's C API. A NULL reads as empty / zero.
[[nodiscard]] std::string ColumnText(sqlite3_stmt* stmt, int index);
[[nodiscard]] std::vector<std::uint8_t> ColumnBlob(sqlite3_stmt* stmt, int index);
[[nodiscard]] std::int64_t ColumnInt(sqlite3_stmt* stmt, int index);

// Resets a cached statement when a scope ends, however it ends: a statement left mid-step would keep its read
// snapshot open and stop WAL checkpoints from making progress.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementUse();
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* stmt_;  // borrowed
};

}  // namespace gateway::sqlite
