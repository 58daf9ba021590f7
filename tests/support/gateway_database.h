// The gateway's SQLite file as the stores that do not migrate it find it: created and migrated by SqliteCertStore.
#pragma once

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <string>

#include "gateway/sqlite_cert_store.h"
#include "tests/support/require_ok.h"
#include "tests/support/test_files.h"

namespace test {

// gateway.db in a fresh temporary directory, already migrated.
class GatewayDatabase {
 public:
  GatewayDatabase() : path_((dir_ / "gateway.db").string()) { Migrate(); }
  GatewayDatabase(const GatewayDatabase&) = delete;
  GatewayDatabase& operator=(const GatewayDatabase&) = delete;

  [[nodiscard]] const TempDir& dir() const { return dir_; }
  [[nodiscard]] const std::string& path() const { return path_; }

  // Opens (and closes again) the certificate store, which creates and migrates the file: the gateway's order at
  // every start, before it opens the other stores.
  void Migrate() const { (void)RequireOk(gateway::SqliteCertStore::Open(path_)); }

 private:
  TempDir dir_;
  std::string path_;
};

// Creates a SQLite file that says it is at schema `version` and holds nothing else.
inline void WriteSchemaVersion(const std::string& path, int version) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const std::string pragma = "PRAGMA user_version = " + std::to_string(version);
  const int rc = sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace test
