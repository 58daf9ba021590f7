// OneTimeChallengeStore on the gateway's SQLite file (the table comes from SqliteCertStore's schema version 2).
//
// Every write is one BEGIN IMMEDIATE transaction: it takes SQLite's write lock before reading, so the check and the
// change it depends on (count then insert, read then mark used) cannot interleave with another thread or another
// process (the CLI) doing the same. Challenges are issued and used at human rates, so one connection behind a mutex
// is enough; there is no group commit here.
#pragma once

#include <memory>
#include <string>

#include "gateway/one_time_challenge_store.h"
#include "gateway/sqlite_statement.h"

namespace gateway {

class SqliteChallengeStore final : public OneTimeChallengeStore {
 public:
  // Opens an existing file that SqliteCertStore::Open has already created and migrated; fails, naming the
  // version it found, on a missing file or one at an older schema version. Never creates or migrates anything.
  [[nodiscard]] static scep::Result<std::unique_ptr<SqliteChallengeStore>> Open(const std::string& path);

  SqliteChallengeStore(const SqliteChallengeStore&) = delete;
  SqliteChallengeStore& operator=(const SqliteChallengeStore&) = delete;
  ~SqliteChallengeStore() override = default;

  // Also refuses (BadRequest, nothing stored) an empty password hash and a subject pattern that is not a valid
  // ECMAScript regex, so that a bad pattern is reported to the admin who sets it, not to the device that uses it.
  // Adding a hash that the endpoint already has is an error.
  [[nodiscard]] scep::Result<ChallengeAddResult> Add(const OneTimeChallenge& challenge, int max_outstanding) override;
  [[nodiscard]] scep::Result<ChallengeUseResult> Use(std::string_view endpoint, std::string_view password_hash,
                                                     std::string_view subject, std::int64_t now) override;
  [[nodiscard]] scep::Result<int> Outstanding(std::string_view endpoint, std::int64_t now) override;

 private:
  // Prepared once; guarded by db_'s mutex like the connection they belong to.
  struct Statements {
    sqlite::Statement count_outstanding, insert, find, mark_used;
  };

  SqliteChallengeStore() = default;
  [[nodiscard]] scep::Result<void> PrepareStatements();

  // The bodies of Add and Use, run inside the write transaction.
  [[nodiscard]] scep::Result<ChallengeAddResult> AddInTransaction(const OneTimeChallenge& challenge,
                                                                  int max_outstanding);
  [[nodiscard]] scep::Result<ChallengeUseResult> UseInTransaction(std::string_view endpoint,
                                                                  std::string_view password_hash,
                                                                  std::string_view subject, std::int64_t now);
  [[nodiscard]] scep::Result<int> CountOutstanding(std::string_view endpoint, std::int64_t at);

  // Declared before the statements so that the statements are finalized first.
  sqlite::WriteConnection db_;
  Statements stmts_;
};

}  // namespace gateway
