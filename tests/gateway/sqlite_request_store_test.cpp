// SqliteRequestStore against a real SQLite file, created and migrated by SqliteCertStore as the gateway does.
#include "gateway/sqlite_request_store.h"

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

namespace {

using gateway::EnrollmentRequest;
using gateway::RequestStatus;
using gateway::SqliteRequestStore;

std::unique_ptr<SqliteRequestStore> OpenStore(const std::string& path) {
  return test::RequireOk(SqliteRequestStore::Open(path));
}

EnrollmentRequest MakeRequest(const std::string& transaction_id, std::int64_t created_at, std::int64_t expires_at) {
  EnrollmentRequest request;
  request.endpoint = "ep";
  request.transaction_id = transaction_id;
  request.request_fingerprint = std::string(64, 'b');
  request.message_type = "PKCSReq";
  request.subject = "CN=" + transaction_id + ",O=Example";
  request.sans = "DNS:" + transaction_id + ".example";
  request.client_address = "192.0.2.7";
  request.csr = {0x30, 0x82, 0x00, 0x01, 0xFF, 0x00, 0x7F};  // NUL and high bytes must come back as they were
  request.reason = "manual approval required";
  request.created_at = created_at;
  request.expires_at = expires_at;
  return request;
}

std::int64_t Add(SqliteRequestStore& store, const EnrollmentRequest& request) {
  const std::int64_t id = test::RequireOk(store.Add(request));
  CHECK(id > 0);
  return id;
}

EnrollmentRequest Find(SqliteRequestStore& store, std::int64_t id) {
  auto found = store.FindById(id);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  return **found;
}

bool Transition(SqliteRequestStore& store, std::int64_t id, RequestStatus from, RequestStatus to,
                const std::string& by, std::int64_t at) {
  return test::RequireOk(store.Transition(id, from, to, "decided by " + by, by, at));
}

std::vector<std::string> TransactionIds(const std::vector<EnrollmentRequest>& requests) {
  std::vector<std::string> ids;
  for (const auto& request : requests) ids.push_back(request.transaction_id);
  return ids;
}

}  // namespace

TEST_CASE("a request goes pending -> approved -> issued, and every field round-trips") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());

  EnrollmentRequest request = MakeRequest("txn-1", 1000, 2000);
  request.id = 999;  // ignored: Add assigns the id
  const std::int64_t id = Add(*store, request);
  request.id = id;
  CHECK(Find(*store, id) == request);
  auto by_transaction = store->FindByTransaction("txn-1");
  REQUIRE(by_transaction.ok());
  REQUIRE(by_transaction->has_value());
  CHECK(**by_transaction == request);

  auto early = store->MarkIssued(id, "0A", 1100);  // not approved yet
  REQUIRE(early.ok());
  CHECK_FALSE(*early);

  CHECK(Transition(*store, id, RequestStatus::Pending, RequestStatus::Approved, "alice", 1200));
  EnrollmentRequest approved = Find(*store, id);
  CHECK(approved.status == RequestStatus::Approved);
  CHECK(approved.decided_by == "alice");
  CHECK(approved.reason == "decided by alice");
  CHECK(approved.decided_at == 1200);
  CHECK(approved.csr == request.csr);

  auto issued = store->MarkIssued(id, "0ABC", 1300);
  REQUIRE(issued.ok());
  CHECK(*issued);
  EnrollmentRequest done = Find(*store, id);
  CHECK(done.status == RequestStatus::Issued);
  CHECK(done.serial == "0ABC");
  CHECK(done.decided_by == "alice");  // the approval stays on record
  CHECK(done.decided_at == 1200);

  auto twice = store->MarkIssued(id, "0DEF", 1400);
  REQUIRE(twice.ok());
  CHECK_FALSE(*twice);
  CHECK(Find(*store, id).serial == "0ABC");
}

TEST_CASE("pending -> denied; a transition from the wrong status or for an unknown id changes nothing") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());
  const std::int64_t id = Add(*store, MakeRequest("txn-deny", 1000, 2000));

  CHECK_FALSE(Transition(*store, id, RequestStatus::Approved, RequestStatus::Issued, "bob", 1100));
  CHECK(Transition(*store, id, RequestStatus::Pending, RequestStatus::Denied, "bob", 1100));
  CHECK_FALSE(Transition(*store, id, RequestStatus::Pending, RequestStatus::Approved, "alice", 1200));
  CHECK_FALSE(Transition(*store, id + 100, RequestStatus::Pending, RequestStatus::Approved, "alice", 1200));

  const EnrollmentRequest denied = Find(*store, id);
  CHECK(denied.status == RequestStatus::Denied);
  CHECK(denied.decided_by == "bob");
  CHECK(denied.decided_at == 1100);
  auto issued = store->MarkIssued(id, "01", 1300);
  REQUIRE(issued.ok());
  CHECK_FALSE(*issued);

  auto missing = store->FindById(id + 100);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  auto missing_transaction = store->FindByTransaction("no-such-transaction");
  REQUIRE(missing_transaction.ok());
  CHECK_FALSE(missing_transaction->has_value());
}

TEST_CASE("approve and deny racing from two stores on one file: exactly one wins") {
  const test::GatewayDatabase db;
  auto server = OpenStore(db.path());
  auto cli = OpenStore(db.path());  // a second connection, as the `requests approve` process has
  constexpr int kThreadsPerStore = 4;
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    const std::int64_t id = Add(*server, MakeRequest("txn-race-" + std::to_string(round), 1000, 2000));
    std::latch start(2 * kThreadsPerStore);
    std::vector<int> won(2 * kThreadsPerStore, -1);  // -1: error
    std::vector<std::thread> threads;
    for (int i = 0; i < 2 * kThreadsPerStore; ++i) {
      threads.emplace_back([&, i] {
        SqliteRequestStore& store = (i % 2 == 0) ? *server : *cli;
        const RequestStatus to = (i % 4 < 2) ? RequestStatus::Approved : RequestStatus::Denied;
        start.arrive_and_wait();
        auto moved = store.Transition(id, RequestStatus::Pending, to, "race", "admin-" + std::to_string(i), 1100);
        won[static_cast<std::size_t>(i)] = moved.ok() ? (*moved ? 1 : 0) : -1;
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(std::count(won.begin(), won.end(), -1) == 0);
    REQUIRE(std::count(won.begin(), won.end(), 1) == 1);
    const int winner = static_cast<int>(std::find(won.begin(), won.end(), 1) - won.begin());
    const EnrollmentRequest decided = Find(*cli, id);
    CHECK(decided.decided_by == "admin-" + std::to_string(winner));
    CHECK(decided.status == ((winner % 4 < 2) ? RequestStatus::Approved : RequestStatus::Denied));
  }
}

TEST_CASE("ExpirePending denies only pending requests whose time has come") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());
  const std::int64_t early = Add(*store, MakeRequest("early", 0, 100));
  const std::int64_t on_time = Add(*store, MakeRequest("on-time", 0, 200));
  const std::int64_t later = Add(*store, MakeRequest("later", 0, 300));
  const std::int64_t approved = Add(*store, MakeRequest("approved", 0, 100));
  REQUIRE(Transition(*store, approved, RequestStatus::Pending, RequestStatus::Approved, "alice", 50));

  auto expired = store->ExpirePending(200);
  REQUIRE(expired.ok());
  CHECK(*expired == 2);
  for (const std::int64_t id : {early, on_time}) {
    const EnrollmentRequest request = Find(*store, id);
    CHECK(request.status == RequestStatus::Denied);
    CHECK(request.reason == "expired");
    CHECK(request.decided_by == "expiry");
    CHECK(request.decided_at == 200);
  }
  CHECK(Find(*store, later).status == RequestStatus::Pending);
  CHECK(Find(*store, approved).status == RequestStatus::Approved);
  CHECK(Find(*store, approved).decided_at == 50);

  auto again = store->ExpirePending(200);
  REQUIRE(again.ok());
  CHECK(*again == 0);
  CHECK(Find(*store, early).decided_at == 200);
}

TEST_CASE("List filters by status and orders by id") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());
  const std::int64_t a = Add(*store, MakeRequest("a", 0, 1000));
  const std::int64_t b = Add(*store, MakeRequest("b", 0, 1000));
  Add(*store, MakeRequest("c", 0, 1000));
  const std::int64_t d = Add(*store, MakeRequest("d", 0, 1000));
  REQUIRE(Transition(*store, b, RequestStatus::Pending, RequestStatus::Approved, "alice", 10));
  REQUIRE(Transition(*store, d, RequestStatus::Pending, RequestStatus::Approved, "alice", 10));
  REQUIRE(Transition(*store, a, RequestStatus::Pending, RequestStatus::Denied, "alice", 10));

  auto all = store->List(std::nullopt);
  REQUIRE(all.ok());
  CHECK(TransactionIds(*all) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(std::is_sorted(all->begin(), all->end(), [](const auto& x, const auto& y) { return x.id < y.id; }));
  auto pending = store->List(RequestStatus::Pending);
  REQUIRE(pending.ok());
  CHECK(TransactionIds(*pending) == std::vector<std::string>{"c"});
  auto approved = store->List(RequestStatus::Approved);
  REQUIRE(approved.ok());
  CHECK(TransactionIds(*approved) == std::vector<std::string>{"b", "d"});
  auto issued = store->List(RequestStatus::Issued);
  REQUIRE(issued.ok());
  CHECK(issued->empty());
}

TEST_CASE("a duplicate transaction ID is an error that leaves the first request as it was") {
  const test::GatewayDatabase db;
  auto store = OpenStore(db.path());
  const std::int64_t id = Add(*store, MakeRequest("txn-dup", 1000, 2000));

  EnrollmentRequest second = MakeRequest("txn-dup", 1500, 2500);
  second.client_address = "198.51.100.1";
  auto duplicate = store->Add(second);
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.error().code == scep::ErrorCode::BadRequest);
  CHECK(duplicate.error().detail.find("txn-dup") != std::string::npos);

  EnrollmentRequest no_csr = MakeRequest("txn-no-csr", 1000, 2000);
  no_csr.csr.clear();
  CHECK_FALSE(store->Add(no_csr).ok());
  CHECK_FALSE(store->Add(MakeRequest("", 1000, 2000)).ok());

  auto all = store->List(std::nullopt);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].id == id);
  CHECK((*all)[0].client_address == "192.0.2.7");
  // No transaction was left open: the next write still works.
  CHECK(Add(*store, MakeRequest("txn-next", 1000, 2000)) > id);
}

TEST_CASE("requests survive reopening, and Open refuses an unmigrated file") {
  const test::GatewayDatabase db;
  std::int64_t id = 0;
  {
    auto store = OpenStore(db.path());
    id = Add(*store, MakeRequest("txn-kept", 1000, 2000));
    REQUIRE(Transition(*store, id, RequestStatus::Pending, RequestStatus::Approved, "alice", 1100));
  }
  auto reopened = OpenStore(db.path());
  CHECK(Find(*reopened, id).status == RequestStatus::Approved);

  const std::string old_path = (db.dir() / "old.db").string();
  test::WriteSchemaVersion(old_path, 1);
  auto old = SqliteRequestStore::Open(old_path);
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().detail.find("schema version 1") != std::string::npos);
  CHECK_FALSE(SqliteRequestStore::Open((db.dir() / "missing.db").string()).ok());
  CHECK_FALSE(std::filesystem::exists(db.dir() / "missing.db"));
}

TEST_CASE("request status spellings parse back") {
  for (const RequestStatus status :
       {RequestStatus::Pending, RequestStatus::Approved, RequestStatus::Denied, RequestStatus::Issued}) {
    CHECK(gateway::ParseRequestStatus(gateway::to_string(status)) == status);
  }
  CHECK(gateway::to_string(RequestStatus::Approved) == "approved");
  CHECK_FALSE(gateway::ParseRequestStatus("Pending").has_value());
  CHECK_FALSE(gateway::ParseRequestStatus("").has_value());
}
