// AdminRoutes decisions in-process: held requests listed, approved and denied, and certificates revoked through
// the API, against the real SQLite stores and audit log (tests/support/admin_routes_harness.h).
#include "gateway/admin_routes.h"

#include <doctest/doctest.h>

#include "tests/support/admin_routes_harness.h"

using namespace admin_test;

TEST_CASE("pending requests: list, show, approve, deny") {
  Harness h;
  const std::int64_t first = h.AddRequest("tx-1", "CN=router1");
  const std::int64_t second = h.AddRequest("tx-2", "CN=router2");

  const json all = Body(h.Get("/api/v1/requests"));
  REQUIRE(all.is_array());
  REQUIRE(all.size() == 2);
  CHECK(all[0]["id"] == first);
  CHECK(all[0]["transaction_id"] == "tx-1");
  CHECK(all[0]["status"] == "pending");
  CHECK(all[0]["created_at"] == "2023-11-14T22:13:20Z");
  CHECK(all[0]["decided_at"].is_null());
  CHECK(all[0]["csr"] == "-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n");

  h.now = kStart + 100;
  const HttpResponse approved = h.Post("/api/v1/requests/" + std::to_string(first) + "/approve");
  REQUIRE(approved.status == 200);
  CHECK(Body(approved)["status"] == "approved");
  CHECK(Body(approved)["decided_by"] == "admin:alice");
  CHECK(h.requests->FindById(first)->value().status == gateway::RequestStatus::Approved);

  const HttpResponse denied =
      h.Post("/api/v1/requests/" + std::to_string(second) + "/deny", R"({"reason": "unknown device"})");
  REQUIRE(denied.status == 200);
  const auto stored = h.requests->FindById(second)->value();
  CHECK(stored.status == gateway::RequestStatus::Denied);
  CHECK(stored.reason == "unknown device");
  CHECK(stored.decided_by == "admin:alice");
  CHECK(stored.decided_at == kStart + 100);

  const HttpResponse again = h.Post("/api/v1/requests/" + std::to_string(first) + "/deny");
  CHECK(again.status == 409);
  CHECK(Body(again)["status"] == "approved");
  CHECK(h.requests->FindById(first)->value().status == gateway::RequestStatus::Approved);

  CHECK(h.Post("/api/v1/requests/999/approve").status == 404);
  CHECK(h.Post("/api/v1/requests/abc/approve").status == 404);
  CHECK(h.Get("/api/v1/requests/999").status == 404);
  CHECK(Body(h.Get("/api/v1/requests/" + std::to_string(second)))["reason"] == "unknown device");
  CHECK(h.Post("/api/v1/requests/" + std::to_string(second) + "/deny", "[1]").status == 400);
  CHECK(h.Get("/api/v1/requests/1/approve").status == 405);
  CHECK(h.Get("/api/v1/nothing").status == 404);

  const json pending = Body(h.Get("/api/v1/requests?status=pending"));
  CHECK(pending.empty());
  const json only_denied = Body(h.Get("/api/v1/requests?status=denied"));
  REQUIRE(only_denied.size() == 1);
  CHECK(only_denied[0]["id"] == second);
  CHECK(h.Get("/api/v1/requests?status=bogus").status == 400);

  const auto audit = AuditLines(h.audit->path());
  int approvals = 0, denials = 0;
  for (const auto& line : audit) {
    if (line["event"] == "approved") {
      ++approvals;
      CHECK(line["transaction_id"] == "tx-1");
      CHECK(line["actor"] == "admin:alice");
    }
    if (line["event"] == "denied") {
      ++denials;
      CHECK(line["reason"] == "unknown device");
      CHECK(line["subject"] == "CN=router2");
    }
  }
  CHECK(approvals == 1);
  CHECK(denials == 1);
}

TEST_CASE("revoking a certificate through the API") {
  Harness h;
  gateway::IssuedCert cert;
  cert.serial = "0A1B2C3D";
  cert.issuer = "CN=Test CA";
  cert.subject = "CN=router9";
  cert.not_before = kStart;
  cert.not_after = kStart + 86400;
  cert.issued_at = kStart;
  cert.transaction_id = "tx-9";
  cert.request_fingerprint = std::string(64, 'c');
  cert.message_type = "PKCSReq";
  cert.der = {0x30, 0x00};
  REQUIRE(h.certs->Put(cert).ok());

  const json listed = Body(h.Get("/api/v1/certificates"));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["serial"] == "0A1B2C3D");
  CHECK(listed[0]["status"] == "issued");
  CHECK_FALSE(listed[0].contains("der"));

  CHECK(h.Post("/api/v1/certificates/0a1b2c3d/revoke", R"({"reason": "removeFromCRL"})").status == 400);
  CHECK(h.Post("/api/v1/certificates/FFFF/revoke", R"({"reason": "keyCompromise"})").status == 404);
  CHECK(h.revocations_seen == 0);

  h.now = kStart + 500;
  const HttpResponse revoked = h.Post("/api/v1/certificates/0a1b2c3d/revoke", R"({"reason": "keyCompromise"})");
  REQUIRE(revoked.status == 200);
  CHECK(Body(revoked)["revocation_reason"] == "keyCompromise");
  CHECK(h.revocations_seen == 1);
  const auto stored = h.certs->FindBySerial("0A1B2C3D")->value();
  CHECK(stored.status == gateway::CertStatus::Revoked);
  CHECK(stored.revocation_reason == 1);
  CHECK(stored.revoked_at == kStart + 500);

  CHECK(h.Post("/api/v1/certificates/0A1B2C3D/revoke", R"({"reason": "superseded"})").status == 409);
  CHECK(h.certs->FindBySerial("0A1B2C3D")->value().revocation_reason == 1);
  CHECK(h.revocations_seen == 1);
  CHECK(Body(h.Get("/api/v1/certificates?status=revoked")).size() == 1);
  CHECK(Body(h.Get("/api/v1/certificates?status=issued")).empty());

  int events = 0;
  for (const auto& line : AuditLines(h.audit->path())) {
    if (line["event"] != "revoked") continue;
    ++events;
    CHECK(line["serial"] == "0A1B2C3D");
    CHECK(line["reason"] == "keyCompromise");
    CHECK(line["actor"] == "admin:alice");
  }
  CHECK(events == 1);
}
