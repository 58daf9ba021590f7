// Ownership of SQLite connections and prepared statements, the few calls around them that turn SQLite result
// codes into scep::Error values, and what every store does the same way: preparing its statements, reading rows,
// checking the schema version, running a write transaction. Shared by the sqlite_*.cpp files only; nothing outside
// the SQLite backend needs it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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

// Steps a statement that returns rows: true with a row to read, false when there are no more, an error otherwise.
[[nodiscard]] scep::Result<bool> StepRow(sqlite3* db, sqlite3_stmt* stmt, std::string_view what);

// Bindings borrow the bytes (SQLITE_STATIC): they must outlive the step, which StatementUse bounds. Empty values
// bind as empty, never as NULL. Parameter indexes are 1-based, as in SQL.
void BindText(sqlite3_stmt* stmt, int index, std::string_view text);
void BindBlob(sqlite3_stmt* stmt, int index, std::span<const std::uint8_t> bytes);
void BindInt(sqlite3_stmt* stmt, int index, std::int64_t value);

// Binds the values to ?1, ?2, ... in order, each as text, blob or integer by its type. The same borrowing rule
// holds: a value built just for the call (to_string(status)) must be a named variable that outlives the step.
template <typename... Values>
void BindAll(sqlite3_stmt* stmt, const Values&... values);

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

// Where a prepared statement goes and the SQL it is prepared from.
struct WantedStatement {
  Statement* slot;
  std::string sql;
};

// Prepares every wanted statement on `db` into its slot; stops at the first that fails.
[[nodiscard]] scep::Result<void> PrepareAll(sqlite3* db, std::span<const WantedStatement> wanted);

// Fails unless the file's user_version is from min_version to max_version. Only SqliteCertStore migrates (it owns
// user_version); the other stores refuse a file it has not brought up to date rather than use it half-made. `who`
// starts the error message ("request store").
[[nodiscard]] scep::Result<void> RequireSchemaVersion(sqlite3* db, const std::string& path, std::string_view who,
                                                      int min_version, int max_version);

// Reads the row a statement with its key bound returns, or nothing when it returns none; `decode` turns the row
// into a value. The statement is reset afterwards.
template <typename Row>
[[nodiscard]] scep::Result<std::optional<Row>> ReadOne(sqlite3* db, sqlite3_stmt* stmt, std::string_view what,
                                                       scep::Result<Row> (*decode)(sqlite3_stmt*));
// Reads every row a statement returns, in its order; the first row that does not decode fails the whole read.
template <typename Row>
[[nodiscard]] scep::Result<std::vector<Row>> ReadAll(sqlite3* db, sqlite3_stmt* stmt, std::string_view what,
                                                     scep::Result<Row> (*decode)(sqlite3_stmt*));

// One connection written through by one thread at a time, behind a mutex, with its BEGIN IMMEDIATE, COMMIT and
// ROLLBACK prepared once. For stores that write at human rates, where group commit would buy nothing.
class WriteConnection {
 public:
  WriteConnection() = default;
  WriteConnection(const WriteConnection&) = delete;
  WriteConnection& operator=(const WriteConnection&) = delete;

  // Opens a file that must already exist (opening would create an empty one, never what the caller meant) and be
  // at a schema version from min_version to max_version. `who` starts the error messages. Call once, first.
  [[nodiscard]] scep::Result<void> OpenExisting(const std::string& path, std::string_view who, int min_version,
                                                int max_version);

  // The connection, for preparing and stepping the store's own statements; use it only inside the two calls below.
  [[nodiscard]] sqlite3* get() const { return db_.get(); }

  // Runs `body` under the mutex, outside any transaction (reads).
  template <typename Body>
  auto WithLock(Body body) -> decltype(body());

  // Runs `body` under the mutex in a write transaction. BEGIN IMMEDIATE takes the write lock before anything is
  // read, so nothing another connection commits can slip in between a check and the change it allows. When the
  // body or the commit fails, rolls back so that the connection is out of any transaction for the next call; that
  // failure is what the caller gets.
  template <typename Body>
  auto InWriteTransaction(Body body) -> decltype(body());

 private:
  [[nodiscard]] scep::Result<void> Begin();
  [[nodiscard]] scep::Result<void> Commit();
  void RollBackIfOpen();

  // Declared before the statements so that the statements are finalized first.
  Connection db_;
  Statement begin_, commit_, rollback_;
  std::mutex mutex_;
};

// ---- templates ----

namespace detail {
inline void BindValue(sqlite3_stmt* stmt, int index, std::string_view text) { BindText(stmt, index, text); }
inline void BindValue(sqlite3_stmt* stmt, int index, std::span<const std::uint8_t> bytes) {
  BindBlob(stmt, index, bytes);
}
inline void BindValue(sqlite3_stmt* stmt, int index, std::int64_t value) { BindInt(stmt, index, value); }
}  // namespace detail

template <typename... Values>
void BindAll(sqlite3_stmt* stmt, const Values&... values) {
  int index = 0;
  (detail::BindValue(stmt, ++index, values), ...);
}

template <typename Row>
scep::Result<std::optional<Row>> ReadOne(sqlite3* db, sqlite3_stmt* stmt, std::string_view what,
                                         scep::Result<Row> (*decode)(sqlite3_stmt*)) {
  StatementUse use(stmt);
  auto stepped = StepRow(db, stmt, what);
  if (!stepped) return stepped.error();
  if (!*stepped) return std::optional<Row>();
  auto row = decode(stmt);
  if (!row) return row.error();
  return std::optional<Row>(std::move(*row));
}

template <typename Row>
scep::Result<std::vector<Row>> ReadAll(sqlite3* db, sqlite3_stmt* stmt, std::string_view what,
                                       scep::Result<Row> (*decode)(sqlite3_stmt*)) {
  StatementUse use(stmt);
  std::vector<Row> rows;
  for (;;) {
    auto stepped = StepRow(db, stmt, what);
    if (!stepped) return stepped.error();
    if (!*stepped) return rows;
    auto row = decode(stmt);
    if (!row) return row.error();
    rows.push_back(std::move(*row));
  }
}

template <typename Body>
auto WriteConnection::WithLock(Body body) -> decltype(body()) {
  std::lock_guard lock(mutex_);
  return body();
}

template <typename Body>
auto WriteConnection::InWriteTransaction(Body body) -> decltype(body()) {
  std::lock_guard lock(mutex_);
  if (auto begun = Begin(); !begun) return begun.error();
  auto outcome = body();
  if (outcome) {
    auto committed = Commit();
    if (committed) return outcome;
    outcome = committed.error();
  }
  RollBackIfOpen();
  return outcome;
}

}  // namespace gateway::sqlite
