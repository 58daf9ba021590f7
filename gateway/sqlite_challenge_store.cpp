#include "gateway/sqlite_challenge_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <regex>
#include <system_error>
#include <utility>

#include "gateway/sqlite_cert_store.h"

namespace gateway {
namespace {

// The schema version that added the one_time_challenges table.
constexpr int kFirstSchemaWithChallenges = 2;

// Only SqliteCertStore migrates (it owns user_version); a file it has not brought up to date is refused here
// rather than used half-made.
scep::Result<void> RequireSchema(sqlite3* db, const std::string& path) {
  auto stmt = sqlite::Prepare(db, "PRAGMA user_version");
  if (!stmt) return stmt.error();
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return sqlite::ErrorFrom(db, "read schema version of " + path);
  const int version = sqlite3_column_int(stmt->get(), 0);
  if (version < kFirstSchemaWithChallenges || version > SqliteCertStore::kSchemaVersion) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           "challenge store: " + path + " has schema version " + std::to_string(version) +
                               ", expected " + std::to_string(kFirstSchemaWithChallenges) + " to " +
                               std::to_string(SqliteCertStore::kSchemaVersion) +
                               " (open it with the certificate store first, which migrates it)");
  }
  return {};
}

scep::Result<void> CheckPattern(const std::string& pattern) {
  try {
    std::regex compiled(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return scep::MakeError(scep::ErrorCode::BadRequest,
                           "subject pattern \"" + pattern + "\" is not a valid ECMAScript regex: " + e.what());
  }
  return {};
}

// Errors (a pattern stored by something that did not check it, a regex too complex to run) are values, not
// exceptions, and never count as a match.
scep::Result<bool> SubjectMatches(const std::string& pattern, std::string_view subject) {
  try {
    const std::regex compiled(pattern, std::regex::ECMAScript);
    return std::regex_search(subject.begin(), subject.end(), compiled);
  } catch (const std::regex_error& e) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           "cannot match subject pattern \"" + pattern + "\": " + e.what());
  }
}

}  // namespace

scep::Result<std::unique_ptr<SqliteChallengeStore>> SqliteChallengeStore::Open(const std::string& path) {
  // Opening would create a missing file; an empty new file is never what the caller meant.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return scep::MakeError(scep::ErrorCode::Internal,
                           "challenge store: " + path + " is not an existing database file");
  }
  auto db = sqlite::OpenConnection(path);
  if (!db) return db.error();
  if (auto schema = RequireSchema(db->get(), path); !schema) return schema.error();

  std::unique_ptr<SqliteChallengeStore> store(new SqliteChallengeStore());  // the constructor is private
  store->db_ = std::move(*db);
  if (auto prepared = store->PrepareStatements(); !prepared) return prepared.error();
  return store;
}

scep::Result<void> SqliteChallengeStore::PrepareStatements() {
  struct Wanted {
    sqlite::Statement* slot;
    const char* sql;
  };
  const Wanted wanted[] = {
      {&stmts_.begin, "BEGIN IMMEDIATE"},
      {&stmts_.commit, "COMMIT"},
      {&stmts_.rollback, "ROLLBACK"},
      {&stmts_.count_outstanding,
       "SELECT count(*) FROM one_time_challenges WHERE endpoint = ?1 AND used_at = 0 AND expires_at > ?2"},
      {&stmts_.insert,
       "INSERT INTO one_time_challenges "
       "(endpoint, password_hash, created_at, expires_at, used_at, subject_pattern, created_by) "
       "VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)"},
      {&stmts_.find,
       "SELECT used_at, expires_at, subject_pattern FROM one_time_challenges "
       "WHERE endpoint = ?1 AND password_hash = ?2"},
      // used_at = 0 again, although the transaction already excludes everyone else: the changed-row count is
      // then the proof that this caller, and no other, used the password.
      {&stmts_.mark_used,
       "UPDATE one_time_challenges SET used_at = ?3 WHERE endpoint = ?1 AND password_hash = ?2 AND used_at = 0"},
  };
  for (const Wanted& want : wanted) {
    auto stmt = sqlite::Prepare(db_.get(), want.sql);
    if (!stmt) return stmt.error();
    *want.slot = std::move(*stmt);
  }
  return {};
}

// BEGIN IMMEDIATE takes the write lock before anything is read, so nothing another connection commits can slip in
// between the check and the change. When the body or the commit fails, rolls back so that the connection is out of
// any transaction for the next call; that failure is what the caller gets.
template <typename Body>
auto SqliteChallengeStore::InWriteTransaction(Body body) -> decltype(body()) {
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

scep::Result<ChallengeAddResult> SqliteChallengeStore::Add(const OneTimeChallenge& challenge, int max_outstanding) {
  if (challenge.password_hash.empty()) {
    return scep::MakeError(scep::ErrorCode::BadRequest, "refusing to store a challenge without a password hash");
  }
  if (auto pattern = CheckPattern(challenge.subject_pattern); !pattern) return pattern.error();

  return InWriteTransaction([&] { return AddInTransaction(challenge, max_outstanding); });
}

scep::Result<ChallengeAddResult> SqliteChallengeStore::AddInTransaction(const OneTimeChallenge& challenge,
                                                                        int max_outstanding) {
  // Counted at the new row's creation time: the cap is on what would be outstanding once it is added.
  auto outstanding = CountOutstanding(challenge.endpoint, challenge.created_at);
  if (!outstanding) return outstanding.error();
  if (*outstanding >= max_outstanding) return ChallengeAddResult::CacheFull;

  sqlite3_stmt* stmt = stmts_.insert.get();
  sqlite::BindText(stmt, 1, challenge.endpoint);
  sqlite::BindText(stmt, 2, challenge.password_hash);
  sqlite::BindInt(stmt, 3, challenge.created_at);
  sqlite::BindInt(stmt, 4, challenge.expires_at);
  sqlite::BindText(stmt, 5, challenge.subject_pattern);
  sqlite::BindText(stmt, 6, challenge.created_by);
  if (auto stored = sqlite::StepToDone(db_.get(), stmt, "store challenge for endpoint " + challenge.endpoint);
      !stored) {
    return stored.error();
  }
  return ChallengeAddResult::Added;
}

scep::Result<ChallengeUseResult> SqliteChallengeStore::Use(std::string_view endpoint, std::string_view password_hash,
                                                           std::string_view subject, std::int64_t now) {
  // A failed commit fails the call: a password not durably marked used must not be accepted.
  return InWriteTransaction([&] { return UseInTransaction(endpoint, password_hash, subject, now); });
}

scep::Result<ChallengeUseResult> SqliteChallengeStore::UseInTransaction(std::string_view endpoint,
                                                                        std::string_view password_hash,
                                                                        std::string_view subject,
                                                                        std::int64_t now) {
  sqlite3* db = db_.get();
  std::string pattern;
  {
    sqlite3_stmt* find = stmts_.find.get();
    sqlite::StatementUse use(find);
    sqlite::BindText(find, 1, endpoint);
    sqlite::BindText(find, 2, password_hash);
    const int rc = sqlite3_step(find);
    if (rc == SQLITE_DONE) return ChallengeUseResult::Unknown;
    if (rc != SQLITE_ROW) return sqlite::ErrorFrom(db, "look up challenge");
    if (sqlite::ColumnInt(find, 0) != 0) return ChallengeUseResult::AlreadyUsed;
    if (sqlite::ColumnInt(find, 1) <= now) return ChallengeUseResult::Expired;
    pattern = sqlite::ColumnText(find, 2);
  }
  if (!pattern.empty()) {
    // A mismatch leaves the password unused: a device that sent the wrong subject may retry with the right one.
    auto matches = SubjectMatches(pattern, subject);
    if (!matches) return matches.error();
    if (!*matches) return ChallengeUseResult::SubjectMismatch;
  }

  sqlite3_stmt* mark = stmts_.mark_used.get();
  sqlite::BindText(mark, 1, endpoint);
  sqlite::BindText(mark, 2, password_hash);
  sqlite::BindInt(mark, 3, now);
  if (auto marked = sqlite::StepToDone(db, mark, "mark challenge used"); !marked) return marked.error();
  if (sqlite3_changes(db) != 1) return ChallengeUseResult::AlreadyUsed;  // cannot happen under the write lock
  return ChallengeUseResult::Accepted;
}

scep::Result<int> SqliteChallengeStore::Outstanding(std::string_view endpoint, std::int64_t now) {
  std::lock_guard lock(mutex_);
  return CountOutstanding(endpoint, now);
}

scep::Result<int> SqliteChallengeStore::CountOutstanding(std::string_view endpoint, std::int64_t at) {
  sqlite3_stmt* stmt = stmts_.count_outstanding.get();
  sqlite::StatementUse use(stmt);
  sqlite::BindText(stmt, 1, endpoint);
  sqlite::BindInt(stmt, 2, at);
  if (sqlite3_step(stmt) != SQLITE_ROW) return sqlite::ErrorFrom(db_.get(), "count outstanding challenges");
  return static_cast<int>(sqlite::ColumnInt(stmt, 0));
}

}  // namespace gateway
