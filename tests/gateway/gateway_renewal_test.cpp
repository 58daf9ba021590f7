// Renewal (RenewalReq, and PKCSReq signed by the old certificate as certmonger and sscep send it), and the
// read-only operations CertPoll, GetCert and GetCRL, against the running gateway.
#include <doctest/doctest.h>

#include <algorithm>

#include "scep/message_content.h"
#include "tests/support/gateway_process.h"
#include "tests/support/scep_test_client.h"

using scep::FailInfo;
using scep::MessageType;

namespace {

const std::vector<std::pair<std::string, std::string>> kSubject{{"O", "Integration Tests"}, {"CN", "renew-me"}};

std::string Openssl(const std::string& args, int* rc = nullptr) {
  std::string out;
  const int status = test::Run("openssl " + args, &out);
  if (rc != nullptr) *rc = status;
  return out;
}

void CheckFailure(const test::ScepReply& reply, FailInfo expected) {
  INFO(reply.Describe());
  REQUIRE(reply.rep.has_value());
  CHECK(reply.signature_ok);
  CHECK(reply.rep->pki_status == scep::PkiStatus::Failure);
  CHECK(reply.rep->fail_info == expected);
  CHECK(reply.rep->transaction_id == reply.transaction_id);
  CHECK(reply.rep->recipient_nonce == reply.sender_nonce);
}

// A gateway, a client, and one device enrolled through the challenge: the starting point of every case here.
struct Enrolled {
  test::GatewayProcess gw{{.ca_subject = "CN=Renewal Test CA,O=Integration Tests"}};
  test::ScepTestClient client{gw.port()};
  test::Device device;
  std::string transaction_id;
  scep::UniquePtr<X509> cert;

  Enrolled() {
    REQUIRE(client.FetchCa() == "");
    device = test::MakeDevice({.subject = kSubject, .challenge = "test-challenge"});
    REQUIRE(device.error == "");
    auto reply = client.Enroll(device);
    INFO(reply.Describe());
    REQUIRE(reply.success());
    transaction_id = reply.transaction_id;
    cert = scep::UpRef(reply.cert());
  }

  // A request signed by the issued certificate and the device's key.
  test::ScepReply SendSignedByCert(scep::ByteView content, MessageType type, const std::string& txid = {}) {
    return client.Send(content, cert.get(), device.key.get(), {.type = type, .transaction_id = txid});
  }
};

}  // namespace

TEST_CASE("renewal signed by the issued certificate needs no challenge") {
  Enrolled e;
  const std::string old_serial = scep::SerialHex(e.cert.get());
  std::vector<std::string> serials{old_serial};
  test::Device renewal_csr;
  // strongSwan renews with a new key and a RenewalReq; certmonger sends a PKCSReq signed by the old certificate.
  // Each renewal revokes the certificate it replaces (renewal.revoke_superseded), so the next one is signed by the
  // newest certificate and its key.
  for (MessageType type : {MessageType::RenewalReq, MessageType::PkcsReq}) {
    CAPTURE(scep::to_string(type));
    renewal_csr = test::MakeDevice({.subject = kSubject});
    REQUIRE(renewal_csr.error == "");
    auto reply = e.SendSignedByCert(renewal_csr.csr_der, type);
    INFO(reply.Describe());
    REQUIRE(reply.success());  // opened with the old certificate's key: the reply is encrypted to the signer
    X509* renewed = reply.cert();
    CHECK(X509_NAME_cmp(X509_get_subject_name(renewed), X509_get_subject_name(e.cert.get())) == 0);
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(renewed), renewal_csr.key.get()) == 1);
    CHECK(std::find(serials.begin(), serials.end(), scep::SerialHex(renewed)) == serials.end());
    serials.push_back(scep::SerialHex(renewed));
    e.cert = scep::UpRef(renewed);
    e.device.key = scep::UpRef(renewal_csr.key.get());
  }
  // The superseded certificates are revoked; the newest is not.
  const auto revoked = test::ListCerts(e.gw.data_dir());
  for (std::size_t i = 0; i < serials.size(); ++i) {
    const auto line_start = revoked.output.find(serials[i]);
    REQUIRE(line_start != std::string::npos);
    const std::string line = revoked.output.substr(line_start, revoked.output.find('\n', line_start) - line_start);
    CHECK(line.find(i + 1 < serials.size() ? "revoked" : "issued") != std::string::npos);
  }
  // Control: the same challenge-less CSR with only its self-signed certificate behind it is refused.
  CheckFailure(e.client.Enroll(renewal_csr), FailInfo::BadRequest);

  const auto listing = test::ListCerts(e.gw.data_dir());
  CAPTURE(listing.output);
  CHECK(listing.count == 3);
  for (const auto& s : serials) CHECK(listing.Has(s));
}

TEST_CASE("renewal signed by a certificate from a look-alike CA is refused") {
  Enrolled e;
  test::TempDir dir;
  const std::string d = dir.path().string();
  // The look-alike: the same subject DN as our CA, its own key. It issues a copy of the device's certificate with the
  // same subject and the same serial, so that only the CA signature tells the two apart.
  scep::OpensslString ca_dn(X509_NAME_oneline(X509_get_subject_name(e.client.ca()), nullptr, 0));
  REQUIRE(ca_dn != nullptr);
  auto renewal_csr = test::MakeDevice({.subject = kSubject}, e.device.key.get());
  test::WriteFile(dir / "csr.der", renewal_csr.csr_der);
  int rc = 0;
  std::string out = Openssl("req -x509 -newkey rsa:2048 -nodes -days 30 -subj '" + std::string(ca_dn.get()) +
                                "' -keyout " + d + "/fake-ca.key -out " + d + "/fake-ca.pem",
                            &rc);
  REQUIRE_MESSAGE(rc == 0, out);
  out = Openssl("req -inform DER -in " + d + "/csr.der -out " + d + "/csr.pem", &rc);
  REQUIRE_MESSAGE(rc == 0, out);
  out = Openssl("x509 -req -in " + d + "/csr.pem -CA " + d + "/fake-ca.pem -CAkey " + d + "/fake-ca.key -days 30 " +
                    "-set_serial 0x" + scep::SerialHex(e.cert.get()) + " -out " + d + "/forged.pem",
                &rc);
  REQUIRE_MESSAGE(rc == 0, out);
  auto forged = scep::CertFromPem(test::ReadText(dir / "forged.pem"));
  REQUIRE(forged.ok());
  REQUIRE(X509_NAME_cmp(X509_get_issuer_name(forged->get()), X509_get_subject_name(e.client.ca())) == 0);
  REQUIRE(X509_NAME_cmp(X509_get_subject_name(forged->get()), X509_get_subject_name(e.cert.get())) == 0);
  REQUIRE(scep::SerialHex(forged->get()) == scep::SerialHex(e.cert.get()));
  const int before = test::ListCerts(e.gw.data_dir()).count;

  for (MessageType type : {MessageType::RenewalReq, MessageType::PkcsReq}) {
    CAPTURE(scep::to_string(type));
    CheckFailure(e.client.Send(renewal_csr.csr_der, forged->get(), e.device.key.get(), {.type = type}),
                 FailInfo::BadRequest);
  }
  CHECK(test::ListCerts(e.gw.data_dir()).count == before);
  // Control: the genuine certificate with the same key and CSR renews.
  auto genuine = e.SendSignedByCert(renewal_csr.csr_der, MessageType::RenewalReq);
  INFO(genuine.Describe());
  CHECK(genuine.success());
}

TEST_CASE("a RenewalReq for a different subject is refused") {
  Enrolled e;
  auto other = test::MakeDevice({.subject = {{"O", "Integration Tests"}, {"CN", "someone-else"}}}, e.device.key.get());
  REQUIRE(other.error == "");
  const int before = test::ListCerts(e.gw.data_dir()).count;
  CheckFailure(e.SendSignedByCert(other.csr_der, MessageType::RenewalReq), FailInfo::BadRequest);
  CHECK(test::ListCerts(e.gw.data_dir()).count == before);
}

TEST_CASE("CertPoll, GetCert and GetCRL") {
  Enrolled e;
  const X509_NAME* ca_name = X509_get_subject_name(e.client.ca());

  {  // CertPoll for the issued transaction returns its certificate; an unknown one is badCertId
    auto ias = scep::EncodeIssuerAndSubject(ca_name, X509_REQ_get_subject_name(e.device.csr.get()));
    REQUIRE(ias.ok());
    auto poll = e.client.Send(*ias, e.device.self_signed.get(), e.device.key.get(),
                              {.type = MessageType::CertPoll, .transaction_id = e.transaction_id});
    INFO(poll.Describe());
    REQUIRE(poll.success());
    REQUIRE(poll.certs.size() == 1);
    CHECK(X509_cmp(poll.cert(), e.cert.get()) == 0);
    CheckFailure(e.client.Send(*ias, e.device.self_signed.get(), e.device.key.get(),
                               {.type = MessageType::CertPoll, .transaction_id = "no-such-transaction"}),
                 FailInfo::BadCertId);
  }

  {  // GetCert for a serial we issued returns it; an unknown serial is badCertId
    auto ias = scep::EncodeIssuerAndSerial(ca_name, X509_get0_serialNumber(e.cert.get()));
    REQUIRE(ias.ok());
    auto got = e.SendSignedByCert(*ias, MessageType::GetCert);
    INFO(got.Describe());
    REQUIRE(got.success());
    REQUIRE(got.certs.size() == 1);
    CHECK(X509_cmp(got.cert(), e.cert.get()) == 0);

    scep::UniquePtr<ASN1_INTEGER> unknown(ASN1_INTEGER_new());
    REQUIRE(ASN1_INTEGER_set(unknown.get(), 0x1234567) == 1);
    auto unknown_ias = scep::EncodeIssuerAndSerial(ca_name, unknown.get());
    REQUIRE(unknown_ias.ok());
    CheckFailure(e.SendSignedByCert(*unknown_ias, MessageType::GetCert), FailInfo::BadCertId);
  }

  {  // GetCRL returns a CRL signed by the CA
    auto ias = scep::EncodeIssuerAndSerial(ca_name, X509_get0_serialNumber(e.cert.get()));
    REQUIRE(ias.ok());
    auto got = e.SendSignedByCert(*ias, MessageType::GetCrl);
    INFO(got.Describe());
    REQUIRE(got.success());
    REQUIRE(got.crls.size() == 1);
    X509_CRL* crl = got.crls[0].get();
    CHECK(X509_NAME_cmp(X509_CRL_get_issuer(crl), ca_name) == 0);

    test::TempDir dir;
    auto der = scep::CrlToDer(crl);
    REQUIRE(der.ok());
    test::WriteFile(dir / "crl.der", *der);
    int rc = 0;
    std::string out = Openssl("crl -inform DER -in " + (dir / "crl.der").string() + " -CAfile " +
                                  e.gw.ca_pem().string() + " -noout",
                              &rc);
    CAPTURE(out);
    CHECK(rc == 0);
    CHECK(out.find("verify OK") != std::string::npos);
    // Control: the same check against another CA fails, so the one above means something.
    out = Openssl("req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=Other CA' -keyout " +
                  (dir / "other.key").string() + " -out " + (dir / "other.pem").string());
    out = Openssl("crl -inform DER -in " + (dir / "crl.der").string() + " -CAfile " + (dir / "other.pem").string() +
                      " -noout",
                  &rc);
    CHECK(out.find("verify OK") == std::string::npos);
  }
}
