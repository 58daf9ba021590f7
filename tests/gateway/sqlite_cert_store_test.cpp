// SqliteCertStore against real SQLite files in a fresh directory under /tmp.
#include "gateway/sqlite_cert_store.h"

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using gateway::CertStatus;
using gateway::IssuedCert;
using gateway::SqliteCertStore;

// A private directory, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cert-store-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    REQUIRE_MESSAGE(!path_.empty(), "mkdtemp failed");
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

IssuedCert MakeCert(const std::string& serial, const std::string& transaction_id, std::int64_t issued_at) {
  IssuedCert cert;
  cert.serial = serial;
  cert.issuer = "CN=Test CA,O=Example";
  cert.subject = "CN=router-" + serial + ",O=Example";
  cert.sans = "DNS:" + serial + ".example,IP:10.0.0.1";
  cert.not_before = issued_at - 60;
  cert.not_after = issued_at + 86400 * 365;
  cert.issued_at = issued_at;
  cert.transaction_id = transaction_id;
  cert.request_fingerprint = std::string(64, 'a');
  cert.message_type = "PKCSReq";
  // Includes a NUL and high bytes: the DER must come back byte for byte.
  cert.der = {0x30, 0x82, 0x00, 0x00, 0xFF, static_cast<std::uint8_t>(serial.size())};
  return cert;
}

std::unique_ptr<SqliteCertStore> OpenStore(const std::string& path) {
  auto store = SqliteCertStore::Open(path);
  REQUIRE_MESSAGE(store.ok(), (store.ok() ? "" : store.error().ToString()));
  return std::move(*store);
}

}  // namespace

TEST_CASE("put, then find by transaction and by serial, list and count") {
  TempDir dir;
  auto store = OpenStore(dir.File("certs.db"));

  const IssuedCert first = MakeCert("0A01", "txn-1", 1000);
  IssuedCert renewal = MakeCert("0A02", "txn-1", 1000);  // same transaction and second: insertion order decides
  renewal.message_type = "RenewalReq";
  const IssuedCert other = MakeCert("0A00", "txn-2", 2000);
  REQUIRE(store->Put(first).ok());
  REQUIRE(store->Put(renewal).ok());
  REQUIRE(store->Put(other).ok());

  auto by_transaction = store->FindByTransaction("txn-1");
  REQUIRE(by_transaction.ok());
  REQUIRE(by_transaction->has_value());
  CHECK(**by_transaction == renewal);

  auto by_serial = store->FindBySerial("0A01");
  REQUIRE(by_serial.ok());
  REQUIRE(by_serial->has_value());
  CHECK(**by_serial == first);

  auto missing = store->FindBySerial("FFFF");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  auto missing_transaction = store->FindByTransaction("");
  REQUIRE(missing_transaction.ok());
  CHECK_FALSE(missing_transaction->has_value());

  auto all = store->List();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].serial == "0A01");  // issued_at 1000, then serial order
  CHECK((*all)[1].serial == "0A02");
  CHECK((*all)[2].serial == "0A00");  // issued_at 2000

  auto count = store->Count();
  REQUIRE(count.ok());
  CHECK(*count == 3);
  CHECK(store->Check().ok());
}

TEST_CASE("a duplicate serial fails only its own Put, even inside one batch") {
  TempDir dir;
  auto store = OpenStore(dir.File("certs.db"));
  REQUIRE(store->Put(MakeCert("DUP", "txn-first", 10)).ok());

  // Hold the write lock from outside, so the puts below queue up and commit together once it is released.
  sqlite3* blocker = nullptr;
  REQUIRE(sqlite3_open(dir.File("certs.db").c_str(), &blocker) == SQLITE_OK);
  REQUIRE(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto batches_before = store->commit_batches();

  std::vector<scep::Result<void>> results(5, scep::Result<void>());
  std::vector<std::thread> threads;
  const char* serials[] = {"B1", "B2", "DUP", "B3", "B4"};
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] { results[i] = store->Put(MakeCert(serials[i], "txn-batch", 20)); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // not asserted on: only lets the queue fill
  REQUIRE(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(blocker);
  for (auto& thread : threads) thread.join();

  for (int i = 0; i < 5; ++i) {
    CAPTURE(serials[i]);
    CHECK(results[i].ok() == (std::string(serials[i]) != "DUP"));
  }
  REQUIRE_FALSE(results[2].ok());
  CHECK(results[2].error().detail.find("UNIQUE") != std::string::npos);
  CHECK(store->commit_batches() - batches_before < 5);
  auto count = store->Count();
  REQUIRE(count.ok());
  CHECK(*count == 5);
  auto kept = store->FindBySerial("DUP");
  REQUIRE(kept.ok());
  REQUIRE(kept->has_value());
  CHECK((*kept)->transaction_id == "txn-first");  // the original row is untouched
  CHECK(store->Check().ok());  // a row error is not a store failure
}

TEST_CASE("revoke, then list revoked") {
  TempDir dir;
  auto store = OpenStore(dir.File("certs.db"));
  REQUIRE(store->Put(MakeCert("01", "t1", 100)).ok());
  REQUIRE(store->Put(MakeCert("02", "t2", 200)).ok());
  REQUIRE(store->Put(MakeCert("03", "t3", 300)).ok());

  auto revoked = store->Revoke("02", 1, 5000);  // keyCompromise
  REQUIRE(revoked.ok());
  CHECK(*revoked);
  auto unknown = store->Revoke("99", 1, 5000);
  REQUIRE(unknown.ok());
  CHECK_FALSE(*unknown);
  auto again = store->Revoke("02", 4, 6000);  // superseded, later: the first revocation stands
  REQUIRE(again.ok());
  CHECK(*again);

  auto list = store->ListRevoked();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].serial == "02");
  CHECK((*list)[0].status == CertStatus::Revoked);
  CHECK((*list)[0].revoked_at == 5000);
  CHECK((*list)[0].revocation_reason == 1);

  auto still_issued = store->FindBySerial("01");
  REQUIRE(still_issued.ok());
  CHECK((*still_issued)->status == CertStatus::Issued);
  CHECK(gateway::to_string(CertStatus::Revoked) == "revoked");
}

TEST_CASE("rows survive closing and reopening the file") {
  TempDir dir;
  const std::string path = dir.File("certs.db");
  {
    auto store = OpenStore(path);
    REQUIRE(store->Put(MakeCert("AA", "t-aa", 1)).ok());
    REQUIRE(store->Put(MakeCert("BB", "t-bb", 2)).ok());
    REQUIRE(store->Revoke("BB", 0, 3).ok());
  }
  auto reopened = OpenStore(path);
  auto count = reopened->Count();
  REQUIRE(count.ok());
  CHECK(*count == 2);
  auto bb = reopened->FindBySerial("BB");
  REQUIRE(bb.ok());
  REQUIRE(bb->has_value());
  IssuedCert expected = MakeCert("BB", "t-bb", 2);
  expected.status = CertStatus::Revoked;
  expected.revoked_at = 3;
  CHECK(**bb == expected);
}

TEST_CASE("64 concurrent puts are all stored and share transactions") {
  TempDir dir;
  auto store = OpenStore(dir.File("certs.db"));
  constexpr int kThreads = 64;
  std::latch start(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const IssuedCert cert = MakeCert("C" + std::to_string(i), "txn-" + std::to_string(i), 42);
      start.arrive_and_wait();  // all threads put at once, as a burst of enrollments would
      failures[i] = store->Put(cert).ok() ? 0 : 1;
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(std::count(failures.begin(), failures.end(), 1) == 0);
  auto all = store->List();
  REQUIRE(all.ok());
  REQUIRE(all->size() == kThreads);
  std::set<std::string> serials;
  for (const IssuedCert& cert : *all) serials.insert(cert.serial);
  CHECK(serials.size() == kThreads);
  MESSAGE("64 puts took ", store->commit_batches(), " transactions");
  CHECK(store->commit_batches() < kThreads);
}

TEST_CASE("the schema version is recorded in the file") {
  TempDir dir;
  const std::string path = dir.File("certs.db");
  { auto store = OpenStore(path); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(sqlite3_column_int(stmt, 0) == SqliteCertStore::kSchemaVersion);
  sqlite3_finalize(stmt);
  // A newer file than this build knows is refused, not silently used.
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto newer = SqliteCertStore::Open(path);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().detail.find("newer") != std::string::npos);
}

TEST_CASE("Open reports unusable paths as errors") {
  TempDir dir;
  SUBCASE("missing parent directory") {
    auto store = SqliteCertStore::Open(dir.File("no-such-dir/certs.db"));
    REQUIRE_FALSE(store.ok());
    CHECK(store.error().code == scep::ErrorCode::Internal);
  }
  SUBCASE("path is a directory") {
    auto store = SqliteCertStore::Open(dir.File(""));
    CHECK_FALSE(store.ok());
  }
  SUBCASE("file is not a database") {
    std::ofstream(dir.File("junk.db")) << std::string(4096, 'x');
    auto store = SqliteCertStore::Open(dir.File("junk.db"));
    CHECK_FALSE(store.ok());
  }
}

TEST_CASE("Put refuses a certificate without serial or DER") {
  TempDir dir;
  auto store = OpenStore(dir.File("certs.db"));
  IssuedCert no_serial = MakeCert("", "t", 1);
  CHECK_FALSE(store->Put(no_serial).ok());
  IssuedCert no_der = MakeCert("01", "t", 1);
  no_der.der.clear();
  CHECK_FALSE(store->Put(no_der).ok());
  auto count = store->Count();
  REQUIRE(count.ok());
  CHECK(*count == 0);
}

namespace {

// Schema version 1 exactly as it shipped, with one certificate in it: what a gateway upgraded in place finds.
void WriteVersion1File(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const char* sql = R"sql(
    CREATE TABLE issued_certs (
      serial TEXT NOT NULL PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL, sans TEXT NOT NULL,
      not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, issued_at INTEGER NOT NULL,
      transaction_id TEXT NOT NULL, request_fingerprint TEXT NOT NULL, message_type TEXT NOT NULL,
      der BLOB NOT NULL, status TEXT NOT NULL CHECK (status IN ('issued', 'revoked')),
      revoked_at INTEGER NOT NULL DEFAULT 0, revocation_reason INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX issued_certs_by_transaction ON issued_certs (transaction_id);
    CREATE INDEX issued_certs_by_status ON issued_certs (status);
    CREATE INDEX issued_certs_by_issued_at ON issued_certs (issued_at, serial);
    INSERT INTO issued_certs VALUES ('0B01', 'CN=Test CA', 'CN=old', 'DNS:old.example', 1, 2, 1, 'txn-old',
                                     'ff', 'PKCSReq', x'3082000100ff', 'revoked', 5, 1);
    PRAGMA user_version = 1;
  )sql";
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, message);
}

int CountTables(const std::string& path, const std::string& where) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND " + where;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const int count = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

}  // namespace

TEST_CASE("a version 1 file migrates to version 2 with its certificates intact") {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  WriteVersion1File(path);
  REQUIRE(CountTables(path, "name IN ('one_time_challenges', 'enrollment_requests')") == 0);

  auto store = OpenStore(path);
  CHECK(store->Check().ok());  // Check compares the file's version with kSchemaVersion
  CHECK(CountTables(path, "name IN ('one_time_challenges', 'enrollment_requests')") == 2);
  auto old = store->FindBySerial("0B01");
  REQUIRE(old.ok());
  REQUIRE(old->has_value());
  CHECK((*old)->transaction_id == "txn-old");
  CHECK((*old)->status == CertStatus::Revoked);
  CHECK((*old)->revocation_reason == 1);
  CHECK((*old)->der == std::vector<std::uint8_t>{0x30, 0x82, 0x00, 0x01, 0x00, 0xFF});
  REQUIRE(store->Put(MakeCert("0B02", "txn-new", 10)).ok());
  auto count = store->Count();
  REQUIRE(count.ok());
  CHECK(*count == 2);
  store.reset();

  // Opening again finds nothing left to migrate.
  auto reopened = OpenStore(path);
  CHECK(reopened->Check().ok());
  auto reopened_count = reopened->Count();
  REQUIRE(reopened_count.ok());
  CHECK(*reopened_count == 2);
}
