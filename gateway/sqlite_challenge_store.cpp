#include "gateway/sqlite_challenge_store.h"

#include <sqlite3.h>

#include <regex>

#include "gateway/sqlite_cert_store.h"

namespace gateway {
namespace {

// The schema version that added the one_time_challenges table.
constexpr int kFirstSchemaWithChallenges = 2;

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
  std::unique_ptr<SqliteChallengeStore> store(new SqliteChallengeStore());  // the constructor is private
  if (auto opened = store->db_.OpenExisting(path, "challenge store", kFirstSchemaWithChallenges,
                                            SqliteCertStore::kSchemaVersion);
      !opened) {
    return opened.error();
  }
  if (auto prepared = store->PrepareStatements(); !prepared) return prepared.error();
  return store;
}

scep::Result<void> SqliteChallengeStore::PrepareStatements() {
  const sqlite::WantedStatement wanted[] = {
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
  return sqlite::PrepareAll(db_.get(), wanted);
}

scep::Result<ChallengeAddResult> SqliteChallengeStore::Add(const OneTimeChallenge& challenge, int max_outstanding) {
  if (challenge.password_hash.empty()) {
    return scep::MakeError(scep::ErrorCode::BadRequest, "refusing to store a challenge without a password hash");
  }
  if (auto pattern = CheckPattern(challenge.subject_pattern); !pattern) return pattern.error();

  return db_.InWriteTransaction([&] { return AddInTransaction(challenge, max_outstanding); });
}

scep::Result<ChallengeAddResult> SqliteChallengeStore::AddInTransaction(const OneTimeChallenge& challenge,
                                                                        int max_outstanding) {
  // Counted at the new row's creation time: the cap is on what would be outstanding once it is added.
  auto outstanding = CountOutstanding(challenge.endpoint, challenge.created_at);
  if (!outstanding) return outstanding.error();
  if (*outstanding >= max_outstanding) return ChallengeAddResult::CacheFull;

  sqlite3_stmt* stmt = stmts_.insert.get();
  sqlite::BindAll(stmt, challenge.endpoint, challenge.password_hash, challenge.created_at, challenge.expires_at,
                  challenge.subject_pattern, challenge.created_by);
  if (auto stored = sqlite::StepToDone(db_.get(), stmt, "store challenge for endpoint " + challenge.endpoint);
      !stored) {
    return stored.error();
  }
  return ChallengeAddResult::Added;
}

scep::Result<ChallengeUseResult> SqliteChallengeStore::Use(std::string_view endpoint, std::string_view password_hash,
                                                           std::string_view subject, std::int64_t now) {
  // A failed commit fails the call: a password not durably marked used must not be accepted.
  return db_.InWriteTransaction([&] { return UseInTransaction(endpoint, password_hash, subject, now); });
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
    sqlite::BindAll(find, endpoint, password_hash);
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
  sqlite::BindAll(mark, endpoint, password_hash, now);
  if (auto marked = sqlite::StepToDone(db, mark, "mark challenge used"); !marked) return marked.error();
  if (sqlite3_changes(db) != 1) return ChallengeUseResult::AlreadyUsed;  // cannot happen under the write lock
  return ChallengeUseResult::Accepted;
}

scep::Result<int> SqliteChallengeStore::Outstanding(std::string_view endpoint, std::int64_t now) {
  return db_.WithLock([&] { return CountOutstanding(endpoint, now); });
}

scep::Result<int> SqliteChallengeStore::CountOutstanding(std::string_view endpoint, std::int64_t at) {
  sqlite3_stmt* stmt = stmts_.count_outstanding.get();
  sqlite::StatementUse use(stmt);
  sqlite::BindAll(stmt, endpoint, at);
  if (sqlite3_step(stmt) != SQLITE_ROW) return sqlite::ErrorFrom(db_.get(), "count outstanding challenges");
  return static_cast<int>(sqlite::ColumnInt(stmt, 0));
}

}  // namespace gateway
