// The admin users file: a real file in a temporary directory, written by AddAdminUser/RemoveAdminUser and read
// back by AdminUsers::Load, with the hashes checked by libargon2 itself.
#include <doctest/doctest.h>

#include <argon2.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "gateway/admin_users.h"
#include "tests/support/test_files.h"

namespace {

namespace fs = std::filesystem;
using test::FileMode;
using test::TempDir;

gateway::AdminUsers LoadOk(const std::string& path) {
  auto users = gateway::AdminUsers::Load(path);
  REQUIRE_MESSAGE(users.ok(), users.error().ToString());
  return std::move(*users);
}

// The text after "name:" on the user's line.
std::string EncodedHashOf(const std::string& path, const std::string& name) {
  const std::string text = test::ReadText(path);
  const std::size_t at = text.find(name + ":");
  REQUIRE(at != std::string::npos);
  const std::size_t start = at + name.size() + 1;
  return text.substr(start, text.find('\n', start) - start);
}

TEST_CASE("add, verify, replace, remove and list") {
  TempDir tmp;
  const std::string path = tmp.File("admin-users");
  CHECK(LoadOk(path).empty());  // no file: nobody may log in
  CHECK_FALSE(LoadOk(path).Verify("alice", "anything"));

  REQUIRE(gateway::AddAdminUser(path, "alice", "correct horse").ok());
  REQUIRE(gateway::AddAdminUser(path, "bob.smith@example-1_x", "pa:ss\nword").ok());
  CHECK(FileMode(path) == 0600);
  CHECK(fs::directory_iterator(tmp.path()) != fs::directory_iterator());
  CHECK(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()) == 1);  // no temp file left

  // Argon2id encoded hashes with the documented parameters, checked by libargon2 directly.
  const std::string alice_hash = EncodedHashOf(path, "alice");
  CHECK(alice_hash.rfind("$argon2id$v=19$m=65536,t=3,p=1$", 0) == 0);
  CHECK(argon2id_verify(alice_hash.c_str(), "correct horse", 13) == ARGON2_OK);
  CHECK(alice_hash.find("correct horse") == std::string::npos);

  auto users = LoadOk(path);
  CHECK(users.names() == std::vector<std::string>{"alice", "bob.smith@example-1_x"});
  CHECK(users.Verify("alice", "correct horse"));
  CHECK_FALSE(users.Verify("alice", "correct horsE"));
  CHECK(users.Verify("bob.smith@example-1_x", "pa:ss\nword"));
  CHECK_FALSE(users.Verify("bob.smith@example-1_x", "correct horse"));  // passwords are per user
  CHECK_FALSE(users.Verify("carol", "correct horse"));

  // Adding an existing name replaces the password (with a fresh salt) and keeps the order.
  REQUIRE(gateway::AddAdminUser(path, "alice", "battery staple").ok());
  CHECK(EncodedHashOf(path, "alice") != alice_hash);
  auto replaced = LoadOk(path);
  CHECK(replaced.names() == std::vector<std::string>{"alice", "bob.smith@example-1_x"});
  CHECK(replaced.Verify("alice", "battery staple"));
  CHECK_FALSE(replaced.Verify("alice", "correct horse"));
  CHECK(users.Verify("alice", "correct horse"));  // a loaded set is a snapshot

  // The same password twice gets two different salts.
  REQUIRE(gateway::AddAdminUser(path, "alice", "correct horse").ok());
  CHECK(EncodedHashOf(path, "alice") != alice_hash);

  auto removed = gateway::RemoveAdminUser(path, "alice");
  REQUIRE(removed.ok());
  CHECK(*removed);
  auto again = gateway::RemoveAdminUser(path, "alice");
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
  auto after = LoadOk(path);
  CHECK(after.names() == std::vector<std::string>{"bob.smith@example-1_x"});
  CHECK_FALSE(after.Verify("alice", "correct horse"));
  CHECK(FileMode(path) == 0600);
}

TEST_CASE("comments, blank lines and CRLF are accepted and kept across rewrites") {
  TempDir tmp;
  const std::string path = tmp.File("users");
  REQUIRE(gateway::AddAdminUser(path, "alice", "secret").ok());
  const std::string alice_line = "alice:" + EncodedHashOf(path, "alice");
  test::WriteText(path, "# admins of the gateway\n\n   \n" + alice_line + "\r\n  # indented comment\n");
  ::chmod(path.c_str(), 0644);
  auto users = LoadOk(path);
  CHECK(users.names() == std::vector<std::string>{"alice"});
  CHECK(users.Verify("alice", "secret"));

  REQUIRE(gateway::AddAdminUser(path, "bob", "other").ok());
  const std::string text = test::ReadText(path);
  CHECK(text.rfind("# admins of the gateway\n\n   \n" + alice_line + "\n  # indented comment\nbob:$argon2id$", 0) == 0);
  CHECK(FileMode(path) == 0600);  // a rewrite also tightens the mode
}

TEST_CASE("malformed files are errors naming the line, and are never rewritten") {
  TempDir tmp;
  const std::string path = tmp.File("users");
  REQUIRE(gateway::AddAdminUser(path, "alice", "secret").ok());
  const std::string good = "alice:" + EncodedHashOf(path, "alice") + "\n";
  struct Case {
    std::string contents;
    std::string expected;
  };
  for (const Case& c : {Case{good + "no colon here\n", "users:2: expected name:hash"},
                        Case{"# c\n" + good + "bad name:$argon2id$x\n", "users:3: user name"},
                        Case{"bob:plaintext\n", "users:1: the hash of bob is not an Argon2id"},
                        Case{"bob:$argon2i$v=19$m=65536,t=3,p=1$abc$def\n", "not an Argon2id"},
                        Case{":$argon2id$x\n", "users:1: user name"},
                        Case{good + good, "users:2: user alice is listed twice"}}) {
    CAPTURE(c.contents);
    test::WriteText(path, c.contents);
    auto users = gateway::AdminUsers::Load(path);
    REQUIRE_FALSE(users.ok());
    CHECK_MESSAGE(users.error().detail.find(c.expected) != std::string::npos, users.error().detail);
    CHECK_FALSE(gateway::AddAdminUser(path, "carol", "pw").ok());
    CHECK_FALSE(gateway::RemoveAdminUser(path, "alice").ok());
    CHECK(test::ReadText(path) == c.contents);
  }
}

TEST_CASE("bad names and empty passwords are refused") {
  TempDir tmp;
  const std::string path = tmp.File("users");
  for (const std::string& name : {std::string(), std::string(65, 'a'), std::string("a:b"), std::string("a b"),
                                  std::string("ünï"), std::string("a/b"), std::string("a\nb")}) {
    CAPTURE(name);
    auto added = gateway::AddAdminUser(path, name, "pw");
    REQUIRE_FALSE(added.ok());
    CHECK(added.error().code == scep::ErrorCode::BadRequest);
  }
  CHECK(gateway::AddAdminUser(path, std::string(64, 'a'), "pw").ok());
  auto empty = gateway::AddAdminUser(path, "alice", "");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == scep::ErrorCode::BadRequest);
  CHECK(LoadOk(path).names() == std::vector<std::string>{std::string(64, 'a')});
  CHECK_FALSE(gateway::AddAdminUser(tmp.File("no-such-dir/users"), "alice", "pw").ok());
}

TEST_CASE("an unknown user costs as much as a wrong password") {
  TempDir tmp;
  const std::string path = tmp.File("users");
  REQUIRE(gateway::AddAdminUser(path, "alice", "secret").ok());
  auto users = LoadOk(path);
  const auto time = [&](const char* name) {
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(users.Verify(name, "wrong"));
    return std::chrono::steady_clock::now() - start;
  };
  const auto wrong_password = time("alice");
  const auto unknown_user = time("mallory");
  MESSAGE("wrong password " << std::chrono::duration<double>(wrong_password).count() << " s, unknown user "
                            << std::chrono::duration<double>(unknown_user).count() << " s");
  // Both run one Argon2id over 64 MiB (tens of milliseconds at least); without the dummy hash the unknown user
  // would take microseconds. The ratio is loose because other processes share the machine.
  CHECK(unknown_user > std::chrono::milliseconds(10));
  CHECK(unknown_user > wrong_password / 10);
}

}  // namespace
