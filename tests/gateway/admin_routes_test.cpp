// AdminRoutes in-process against the real SQLite stores, a real users file and a real audit log in a temp dir.
#include "gateway/admin_routes.h"

#include <doctest/doctest.h>

#include "tests/support/admin_routes_harness.h"

using namespace admin_test;

TEST_CASE("IsAdminPath covers the NDES admin page and the API, nothing else") {
  CHECK(AdminRoutes::IsAdminPath("/certsrv/mscep_admin"));
  CHECK(AdminRoutes::IsAdminPath("/certsrv/mscep_admin/"));
  CHECK(AdminRoutes::IsAdminPath("/CertSrv/MSCEP_ADMIN/default.asp"));
  CHECK(AdminRoutes::IsAdminPath("/api/v1"));
  CHECK(AdminRoutes::IsAdminPath("/api/v1/requests/3/approve"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/certsrv/mscep/mscep.dll"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/certsrv/mscep_administrator"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/api/v10"));
  CHECK_FALSE(AdminRoutes::IsAdminPath("/cgi-bin/pkiclient.exe"));
}

TEST_CASE("without valid credentials the admin pages answer 401 with a Basic challenge") {
  Harness h;
  for (const std::optional<Login>& login :
       {std::optional<Login>(), std::optional<Login>(Login{"alice", "wrong"}),
        std::optional<Login>(Login{"mallory", kAlice.password})}) {
    const HttpResponse page = h.Get("/certsrv/mscep_admin/", login);
    CHECK(page.status == 401);
    CHECK(Header(page, "WWW-Authenticate") == "Basic realm=\"scep-gateway admin\"");
    CHECK(page.content_type == "text/html; charset=utf-16le");
    CHECK(DecodeAsciiPage(page.body).find("You do not have sufficient permission to enroll with SCEP.") !=
          std::string::npos);
    CHECK_FALSE(ScrapePassword(page).has_value());

    const HttpResponse api = h.Post("/api/v1/challenges", "", login);
    CHECK(api.status == 401);
    CHECK(Header(api, "WWW-Authenticate") == "Basic realm=\"scep-gateway admin\"");
    CHECK(Body(api).contains("error"));
  }
  // A header that is not Basic, or not base64, is no login either.
  auto bearer = MakeRequest("GET", "/api/v1/requests", std::nullopt);
  bearer.headers.emplace_back("authorization", "Bearer abc");
  CHECK(h.routes->Handle(bearer).status == 401);
  auto garbage = MakeRequest("GET", "/api/v1/requests", std::nullopt);
  garbage.headers.emplace_back("authorization", "Basic !!!");
  CHECK(h.routes->Handle(garbage).status == 401);
  // Nothing was issued to anyone.
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 0);
}

TEST_CASE("the NDES page issues single-use passwords until the cache is full") {
  Harness h;
  std::vector<std::string> passwords;
  for (int i = 0; i < 5; ++i) {
    const char* spellings[] = {"/certsrv/mscep_admin/", "/certsrv/mscep_admin/default.asp",
                               "/certsrv/mscep_admin/mscep.dll"};
    const HttpResponse page = h.Get(spellings[i % 3]);
    REQUIRE(page.status == 200);
    CHECK(page.content_type == "text/html; charset=utf-16le");
    CHECK(Header(page, "Cache-Control") == "no-store");
    const std::string html = DecodeAsciiPage(page.body);
    CHECK(html.find(std::string("The thumbprint (hash value) for the CA certificate is: <B> ") + kThumbprint +
                    " </B>") != std::string::npos);
    CHECK(html.find("This password can be used only once and will expire within 60 minutes.") !=
          std::string::npos);
    const auto password = ScrapePassword(page);
    REQUIRE(password.has_value());
    CHECK(password->size() == 16);
    passwords.push_back(*password);
  }
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 5);

  SUBCASE("the sixth gets the cache-full page, with status 200 like NDES") {
    const HttpResponse full = h.Get("/certsrv/mscep_admin");
    CHECK(full.status == 200);
    CHECK(DecodeAsciiPage(full.body).find("The password cache is full.") != std::string::npos);
    CHECK_FALSE(ScrapePassword(full).has_value());
    const HttpResponse api = h.Post("/api/v1/challenges", R"({"endpoint": "ndes"})");
    CHECK(api.status == 429);
    CHECK(Body(api)["error"] == "the password cache is full");
  }
  SUBCASE("a used password frees a place, and the store knows it by its SHA-256") {
    CHECK(*h.challenges->Use("ndes", Sha256Hex(passwords[2]), "CN=router1", kStart + 5) ==
          gateway::ChallengeUseResult::Accepted);
    CHECK(*h.challenges->Use("ndes", Sha256Hex(passwords[2]), "CN=router1", kStart + 6) ==
          gateway::ChallengeUseResult::AlreadyUsed);
    CHECK(ScrapePassword(h.Get("/certsrv/mscep_admin/")).has_value());
  }
  SUBCASE("expired passwords free the cache") {
    h.now = kStart + 61 * 60;
    CHECK(ScrapePassword(h.Get("/certsrv/mscep_admin/")).has_value());
  }
  // The audit trail says who fetched passwords, but never holds one.
  const std::string audit = test::ReadText(h.audit->path());
  CHECK(audit.find("challenge_issued") != std::string::npos);
  CHECK(audit.find("admin:alice") != std::string::npos);
  for (const auto& p : passwords) {
    CHECK(audit.find(p) == std::string::npos);
    CHECK(audit.find(Sha256Hex(p)) == std::string::npos);
  }
}

TEST_CASE("the NDES page picks the endpoint from ?endpoint=") {
  Harness h;
  const HttpResponse lab = h.Get("/certsrv/mscep_admin/?endpoint=lab");
  REQUIRE(ScrapePassword(lab).has_value());
  CHECK(DecodeAsciiPage(lab.body).find("will expire within 10 minutes.") != std::string::npos);
  CHECK(*h.challenges->Outstanding("lab", kStart) == 1);
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 0);
  // lab allows one outstanding password.
  CHECK(DecodeAsciiPage(h.Get("/certsrv/mscep_admin/?endpoint=lab").body).find("The password cache is full.") !=
        std::string::npos);
  CHECK(h.Get("/certsrv/mscep_admin/?endpoint=static").status == 404);
  CHECK(h.Get("/certsrv/mscep_admin/?endpoint=nope").status == 404);
  CHECK(h.Get("/certsrv/mscep_admin/other.asp").status == 404);
  CHECK(h.Post("/certsrv/mscep_admin/").status == 405);
}

TEST_CASE("require_tls refuses plain HTTP with 403 before looking at credentials") {
  Harness h(/*require_tls=*/true);
  const HttpResponse page = h.Get("/certsrv/mscep_admin/");
  CHECK(page.status == 403);
  CHECK(DecodeAsciiPage(page.body).find("You do not have sufficient permission") != std::string::npos);
  const HttpResponse api = h.Post("/api/v1/challenges");
  CHECK(api.status == 403);
  CHECK(Body(api)["error"].get<std::string>().find("HTTPS") != std::string::npos);
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 0);

  const HttpResponse over_tls = h.routes->Handle(MakeRequest("GET", "/certsrv/mscep_admin/", kAlice, "", true));
  CHECK(over_tls.status == 200);
  CHECK(ScrapePassword(over_tls).has_value());
}

TEST_CASE("POST /api/v1/challenges") {
  Harness h;
  const HttpResponse created = h.Post("/api/v1/challenges", R"({"endpoint": "lab", "subject_pattern": "^CN=r1$"})");
  REQUIRE(created.status == 201);
  const json body = Body(created);
  CHECK(body["endpoint"] == "lab");
  CHECK(std::regex_match(body["challenge"].get<std::string>(), std::regex("[0-9A-F]{16}")));
  CHECK(body["expires_at"] == "2023-11-14T22:23:20Z");  // kStart + 10 minutes
  const std::string hash = Sha256Hex(body["challenge"].get<std::string>());
  CHECK(*h.challenges->Use("lab", hash, "CN=other", kStart + 1) == gateway::ChallengeUseResult::SubjectMismatch);
  CHECK(*h.challenges->Use("lab", hash, "CN=r1", kStart + 1) == gateway::ChallengeUseResult::Accepted);

  CHECK(h.Post("/api/v1/challenges").status == 201);  // empty body: the first one-time endpoint
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 1);
  CHECK(h.Post("/api/v1/challenges", R"({"subject_pattern": "(unclosed"})").status == 400);
  CHECK(h.Post("/api/v1/challenges", R"({"endpoint": 5})").status == 400);
  CHECK(h.Post("/api/v1/challenges", "not json").status == 400);
  CHECK(h.Post("/api/v1/challenges", R"({"endpoint": "static"})").status == 404);
  CHECK(h.Get("/api/v1/challenges").status == 405);
  CHECK(*h.challenges->Outstanding("ndes", kStart) == 1);
}

TEST_CASE("changes to the users file take effect without a restart") {
  Harness h;
  const Login bob{"bob", "s3cret-bob"};
  CHECK(h.Get("/api/v1/requests").status == 200);  // alice's login is now remembered
  CHECK(h.Get("/api/v1/requests", bob).status == 401);

  REQUIRE(gateway::AddAdminUser(h.users_file, bob.user, bob.password).ok());
  CHECK(h.Get("/api/v1/requests", bob).status == 200);

  REQUIRE(gateway::RemoveAdminUser(h.users_file, kAlice.user).ok());
  CHECK(h.Get("/api/v1/requests").status == 401);
  CHECK(h.Get("/api/v1/requests", bob).status == 200);

  REQUIRE(gateway::AddAdminUser(h.users_file, bob.user, "a new password").ok());
  CHECK(h.Get("/api/v1/requests", bob).status == 401);
  CHECK(h.Get("/api/v1/requests", Login{"bob", "a new password"}).status == 200);
}
