// SqliteChallengeStore against a real SQLite file, created and migrated by SqliteCertStore as the gateway does.
#include "gateway/sqlite_challenge_store.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/gateway_database.h"
#include "tests/support/require_ok.h"
#include "tests/support/test_files.h"

namespace {

using gateway::ChallengeAddResult;
using gateway::ChallengeUseResult;
using gateway::OneTimeChallenge;
using gateway::SqliteChallengeStore;

std::unique_ptr<SqliteChallengeStore> OpenStore(const std::string& path) {
  return test::RequireOk(SqliteChallengeStore::Open(path));
}

OneTimeChallenge MakeChallenge(const std::string& endpoint, const std::string& hash, std::int64_t created_at,
                               std::int64_t expires_at, const std::string& pattern = "") {
  return OneTimeChallenge{.endpoint = endpoint,
                          .password_hash = hash,
                          .created_at = created_at,
                          .expires_at = expires_at,
                          .subject_pattern = pattern,
                          .created_by = "admin"};
}

ChallengeAddResult Add(SqliteChallengeStore& store, const OneTimeChallenge& challenge, int max_outstanding) {
  return test::RequireOk(store.Add(challenge, max_outstanding));
}

ChallengeUseResult Use(SqliteChallengeStore& store, const std::string& endpoint, const std::string& hash,
                       const std::string& subject, std::int64_t now) {
  return test::RequireOk(store.Use(endpoint, hash, subject, now));
}

int Outstanding(SqliteChallengeStore& store, const std::string& endpoint, std::int64_t now) {
  return test::RequireOk(store.Outstanding(endpoint, now));
}

// Many threads, spread over the given stores, all try the same password at once; returns how many were accepted
// and checks that every other caller was told AlreadyUsed.
int RaceUse(const std::vector<SqliteChallengeStore*>& stores, int threads_per_store, const std::string& hash) {
  const int total = static_cast<int>(stores.size()) * threads_per_store;
  std::latch start(total);
  std::vector<int> outcomes(static_cast<std::size_t>(total), -1);  // -1: error
  std::vector<std::thread> threads;
  for (int i = 0; i < total; ++i) {
    threads.emplace_back([&, i] {
      SqliteChallengeStore& store = *stores[static_cast<std::size_t>(i % static_cast<int>(stores.size()))];
      start.arrive_and_wait();
      auto used = store.Use("ep", hash, "CN=device", 1500);
      outcomes[static_cast<std::size_t>(i)] = used.ok() ? static_cast<int>(*used) : -1;
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(std::count(outcomes.begin(), outcomes.end(), -1) == 0);
  const auto accepted = std::count(outcomes.begin(), outcomes.end(), static_cast<int>(ChallengeUseResult::Accepted));
  const auto already = std::count(outcomes.begin(), outcomes.end(), static_cast<int>(ChallengeUseResult::AlreadyUsed));
  CHECK(accepted + already == total);
  return static_cast<int>(accepted);
}

}  // namespace

TEST_CASE("Add stops at max_outstanding; used and expired passwords do not count") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());

  CHECK(Add(*store, MakeChallenge("ep", "h1", 1000, 2000), 3) == ChallengeAddResult::Added);
  CHECK(Add(*store, MakeChallenge("ep", "h2", 1000, 1500), 3) == ChallengeAddResult::Added);
  CHECK(Add(*store, MakeChallenge("ep", "h3", 1000, 2000), 3) == ChallengeAddResult::Added);
  CHECK(Outstanding(*store, "ep", 1000) == 3);
  CHECK(Add(*store, MakeChallenge("ep", "h4", 1000, 2000), 3) == ChallengeAddResult::CacheFull);
  CHECK(Use(*store, "ep", "h4", "CN=x", 1001) == ChallengeUseResult::Unknown);  // CacheFull stored nothing

  // Another endpoint has its own cap.
  CHECK(Add(*store, MakeChallenge("other", "h1", 1000, 2000), 1) == ChallengeAddResult::Added);
  CHECK(Add(*store, MakeChallenge("other", "h9", 1000, 2000), 1) == ChallengeAddResult::CacheFull);

  // A used password frees its place.
  CHECK(Use(*store, "ep", "h1", "CN=x", 1100) == ChallengeUseResult::Accepted);
  CHECK(Outstanding(*store, "ep", 1100) == 2);
  CHECK(Add(*store, MakeChallenge("ep", "h4", 1100, 2000), 3) == ChallengeAddResult::Added);
  CHECK(Add(*store, MakeChallenge("ep", "h5", 1100, 2000), 3) == ChallengeAddResult::CacheFull);

  // So does an expired one, counted at the new row's creation time (h2 expires at 1500).
  CHECK(Add(*store, MakeChallenge("ep", "h5", 1499, 2000), 3) == ChallengeAddResult::CacheFull);
  CHECK(Outstanding(*store, "ep", 1500) == 2);
  CHECK(Add(*store, MakeChallenge("ep", "h5", 1500, 2000), 3) == ChallengeAddResult::Added);
  CHECK(Outstanding(*store, "ep", 1500) == 3);
  CHECK(Outstanding(*store, "ep", 2000) == 0);
  CHECK(Outstanding(*store, "nobody", 1000) == 0);
}

TEST_CASE("Use tells Unknown, Expired, SubjectMismatch, Accepted and AlreadyUsed apart") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());
  REQUIRE(Add(*store, MakeChallenge("ep", "any", 1000, 2000), 10) == ChallengeAddResult::Added);
  REQUIRE(Add(*store, MakeChallenge("ep", "routers", 1000, 2000, "^CN=router-[0-9]+,"), 10) ==
          ChallengeAddResult::Added);
  REQUIRE(Add(*store, MakeChallenge("ep", "short", 1000, 1200), 10) == ChallengeAddResult::Added);

  CHECK(Use(*store, "ep", "nope", "CN=x", 1100) == ChallengeUseResult::Unknown);
  CHECK(Use(*store, "elsewhere", "any", "CN=x", 1100) == ChallengeUseResult::Unknown);  // bound to its endpoint

  CHECK(Use(*store, "ep", "short", "CN=x", 1200) == ChallengeUseResult::Expired);  // expires_at itself is too late
  CHECK(Use(*store, "ep", "short", "CN=x", 1199) == ChallengeUseResult::Accepted);

  // A mismatch does not use the password up; the matching subject then can.
  CHECK(Use(*store, "ep", "routers", "CN=printer-1,O=Example", 1100) == ChallengeUseResult::SubjectMismatch);
  CHECK(Use(*store, "ep", "routers", "CN=router-,O=Example", 1100) == ChallengeUseResult::SubjectMismatch);
  CHECK(Outstanding(*store, "ep", 1100) == 2);
  CHECK(Use(*store, "ep", "routers", "CN=router-17,O=Example", 1100) == ChallengeUseResult::Accepted);
  CHECK(Use(*store, "ep", "routers", "CN=router-17,O=Example", 1101) == ChallengeUseResult::AlreadyUsed);

  CHECK(Use(*store, "ep", "any", "anything at all", 1100) == ChallengeUseResult::Accepted);
  CHECK(Use(*store, "ep", "any", "anything at all", 5000) == ChallengeUseResult::AlreadyUsed);  // used beats expired
  CHECK(Outstanding(*store, "ep", 1100) == 0);
}

TEST_CASE("Add refuses an empty hash, an invalid pattern and a duplicate, storing nothing") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());

  auto empty = store->Add(MakeChallenge("ep", "", 1000, 2000), 10);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == scep::ErrorCode::BadRequest);

  auto bad_pattern = store->Add(MakeChallenge("ep", "h", 1000, 2000, "CN=(unclosed"), 10);
  REQUIRE_FALSE(bad_pattern.ok());
  CHECK(bad_pattern.error().code == scep::ErrorCode::BadRequest);
  CHECK(bad_pattern.error().detail.find("CN=(unclosed") != std::string::npos);
  CHECK(Use(*store, "ep", "h", "CN=x", 1100) == ChallengeUseResult::Unknown);

  REQUIRE(Add(*store, MakeChallenge("ep", "h", 1000, 2000), 10) == ChallengeAddResult::Added);
  auto duplicate = store->Add(MakeChallenge("ep", "h", 1001, 3000), 10);
  CHECK_FALSE(duplicate.ok());
  CHECK(Outstanding(*store, "ep", 1001) == 1);
  // The store is still usable after the failed statements (no transaction left open).
  CHECK(Use(*store, "ep", "h", "CN=x", 1100) == ChallengeUseResult::Accepted);
}

TEST_CASE("16 threads racing for one password: exactly one is accepted") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());
  for (int round = 0; round < 5; ++round) {
    const std::string hash = "race-" + std::to_string(round);
    REQUIRE(Add(*store, MakeChallenge("ep", hash, 1000, 2000), 100) == ChallengeAddResult::Added);
    CAPTURE(round);
    CHECK(RaceUse({store.get()}, 16, hash) == 1);
  }
  CHECK(Outstanding(*store, "ep", 1500) == 0);
}

TEST_CASE("two stores on one file (as two processes) racing for one password: exactly one is accepted") {
  const test::GatewayDatabase db;
  auto first = OpenStore(db.path());
  auto second = OpenStore(db.path());
  for (int round = 0; round < 5; ++round) {
    const std::string hash = "race-" + std::to_string(round);
    // Added through one connection, raced for through both: the second sees the first's commit.
    REQUIRE(Add(*first, MakeChallenge("ep", hash, 1000, 2000), 100) == ChallengeAddResult::Added);
    CAPTURE(round);
    CHECK(RaceUse({first.get(), second.get()}, 8, hash) == 1);
  }
}

TEST_CASE("challenges and their use survive closing and reopening the file") {
  const test::GatewayDatabase db;
  {
    auto store = OpenStore(db.path());
    REQUIRE(Add(*store, MakeChallenge("ep", "kept", 1000, 2000, "^CN=a$"), 10) == ChallengeAddResult::Added);
    REQUIRE(Add(*store, MakeChallenge("ep", "spent", 1000, 2000), 10) == ChallengeAddResult::Added);
    REQUIRE(Use(*store, "ep", "spent", "CN=a", 1100) == ChallengeUseResult::Accepted);
  }
  db.Migrate();  // a restarted gateway opens the certificate store again first
  auto store = OpenStore(db.path());
  CHECK(Outstanding(*store, "ep", 1100) == 1);
  CHECK(Use(*store, "ep", "spent", "CN=a", 1200) == ChallengeUseResult::AlreadyUsed);
  CHECK(Use(*store, "ep", "kept", "CN=b", 1200) == ChallengeUseResult::SubjectMismatch);  // the pattern was kept
  CHECK(Use(*store, "ep", "kept", "CN=a", 1200) == ChallengeUseResult::Accepted);
}

TEST_CASE("Open refuses a file the certificate store has not migrated, and creates nothing") {
  test::TempDir dir;
  SUBCASE("missing file") {
    const auto path = dir / "missing.db";
    auto store = SqliteChallengeStore::Open(path.string());
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().detail.find("missing.db") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
  }
  SUBCASE("schema version 1") {
    const std::string path = (dir / "old.db").string();
    test::WriteSchemaVersion(path, 1);
    auto store = SqliteChallengeStore::Open(path);
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().detail.find("schema version 1") != std::string::npos);
  }
}
