// Requests the gateway must refuse with a signed CertRep FAILURE (and never a certificate), and retries it must
// answer idempotently.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/support/gateway_process.h"
#include "tests/support/scep_test_client.h"

using scep::FailInfo;
using test::Transport;

namespace {

// One gateway with the default configuration for the cases that do not count rows across cases.
test::GatewayProcess& Gateway() {
  static test::GatewayProcess gw;
  return gw;
}

EVP_PKEY* SharedKey() {
  static scep::UniquePtr<EVP_PKEY> key(EVP_RSA_gen(2048));
  return key.get();
}

// A FAILURE as RFC 8894 wants it: signed by the CA, nonces and transactionID tied to the request, no content.
void CheckSignedFailure(const test::ScepReply& reply, FailInfo expected, X509* ca) {
  INFO(reply.Describe());
  REQUIRE(reply.error == "");
  REQUIRE(reply.http_status == 200);
  CHECK(reply.content_type == "application/x-pki-message");
  REQUIRE(reply.rep.has_value());
  CHECK(reply.rep->message_type == scep::MessageType::CertRep);
  CHECK(reply.rep->pki_status == scep::PkiStatus::Failure);
  CHECK(reply.rep->fail_info == expected);
  CHECK(reply.signature_ok);
  CHECK(X509_cmp(reply.rep->signer_cert(), ca) == 0);
  CHECK(reply.rep->transaction_id == reply.transaction_id);
  CHECK(reply.rep->recipient_nonce == reply.sender_nonce);
  CHECK(reply.rep->envelope().empty());
  CHECK(reply.certs.empty());
}

// Flips the lowest bit of the last byte of the SignerInfo's signature, in place in the DER.
bool TamperSignature(scep::Bytes& der) {
  const unsigned char* p = der.data();
  scep::UniquePtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) return false;
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(signers) != 1) return false;
  const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(signers, 0));
  const unsigned char* sig_bytes = ASN1_STRING_get0_data(sig);
  const auto at = std::search(der.begin(), der.end(), sig_bytes, sig_bytes + ASN1_STRING_length(sig));
  if (at == der.end()) return false;
  *(at + ASN1_STRING_length(sig) - 1) ^= 0x01;
  return true;
}

}  // namespace

TEST_CASE("a wrong or missing challenge gets a signed FAILURE badRequest and issues nothing") {
  test::ScepTestClient client(Gateway().port());
  REQUIRE(client.FetchCa() == "");
  const int before = test::ListCerts(Gateway().data_dir()).count;
  REQUIRE(before >= 0);
  for (const char* challenge : {"wrong-challenge", "test-challengE", ""}) {
    CAPTURE(challenge);
    auto device = test::MakeDevice({.subject = {{"CN", "no-entry"}}, .challenge = challenge}, SharedKey());
    REQUIRE(device.error == "");
    for (Transport t : {Transport::Post, Transport::GetPercentEncoded}) {
      CheckSignedFailure(client.Enroll(device, {.transport = t}), FailInfo::BadRequest, client.ca());
    }
  }
  CHECK(test::ListCerts(Gateway().data_dir()).count == before);

  // The same device with the right challenge does get a certificate: the refusal above was the challenge's doing.
  auto good = test::MakeDevice({.subject = {{"CN", "no-entry"}}, .challenge = "test-challenge"}, SharedKey());
  auto reply = client.Enroll(good);
  INFO(reply.Describe());
  CHECK(reply.success());
  CHECK(test::ListCerts(Gateway().data_dir()).count == before + 1);
}

TEST_CASE("a request whose signature was tampered with gets FAILURE badMessageCheck") {
  test::ScepTestClient client(Gateway().port());
  REQUIRE(client.FetchCa() == "");
  auto device = test::MakeDevice({.subject = {{"CN", "tampered"}}, .challenge = "test-challenge"}, SharedKey());
  REQUIRE(device.error == "");
  const int before = test::ListCerts(Gateway().data_dir()).count;

  auto prepared = client.Prepare(device.csr_der, device.self_signed.get(), device.key.get(), {});
  REQUIRE(prepared.error == "");
  test::ScepReply tampered;
  tampered.request = prepared.request;
  tampered.transaction_id = prepared.transaction_id;
  tampered.sender_nonce = prepared.sender_nonce;
  REQUIRE(TamperSignature(tampered.request));
  REQUIRE(tampered.request != prepared.request);
  CheckSignedFailure(client.Resend(tampered, Transport::Post, device.self_signed.get(), device.key.get()),
                     FailInfo::BadMessageCheck, client.ca());
  CHECK(test::ListCerts(Gateway().data_dir()).count == before);

  // The untouched bytes of the same request enroll.
  auto reply = client.Resend(prepared, Transport::Post, device.self_signed.get(), device.key.get());
  INFO(reply.Describe());
  CHECK(reply.success());
}

TEST_CASE("a request encrypted to another certificate than the CA gets FAILURE badMessageCheck") {
  test::ScepTestClient client(Gateway().port());
  REQUIRE(client.FetchCa() == "");
  auto device = test::MakeDevice({.subject = {{"CN", "misdirected"}}, .challenge = "test-challenge"}, SharedKey());
  auto stranger = test::MakeDevice({.subject = {{"CN", "Not The CA"}}});
  REQUIRE(device.error == "");
  REQUIRE(stranger.error == "");
  const int before = test::ListCerts(Gateway().data_dir()).count;
  CheckSignedFailure(client.Enroll(device, {.recipient = stranger.self_signed.get()}), FailInfo::BadMessageCheck,
                     client.ca());
  CHECK(test::ListCerts(Gateway().data_dir()).count == before);
}

TEST_CASE("with scep.allow_single_des: false a DES request gets FAILURE badAlg, 3DES still enrolls") {
  test::GatewayProcess gw({.config_yaml = "scep:\n  allow_single_des: false\n"});
  test::ScepTestClient client(gw.port());
  REQUIRE(client.FetchCa() == "");
  auto device = test::MakeDevice({.subject = {{"CN", "old-device"}}, .challenge = "test-challenge"}, SharedKey());
  REQUIRE(device.error == "");
  for (Transport t : {Transport::Post, Transport::GetLineBreaks}) {
    CheckSignedFailure(client.Enroll(device, {.cipher = scep::ContentCipher::DesCbc, .transport = t}),
                       FailInfo::BadAlg, client.ca());
  }
  CHECK(test::ListCerts(gw.data_dir()).count == 0);
  auto reply = client.Enroll(device, {.cipher = scep::ContentCipher::DesEde3Cbc});
  INFO(reply.Describe());
  CHECK(reply.success());
  CHECK(test::ListCerts(gw.data_dir()).count == 1);
}

TEST_CASE("a retried request gets the same certificate; the same transactionID with another CSR is refused") {
  test::GatewayProcess gw;
  test::ScepTestClient client(gw.port());
  REQUIRE(client.FetchCa() == "");
  auto device = test::MakeDevice({.subject = {{"CN", "cisco-router"}}, .challenge = "test-challenge"}, SharedKey());
  REQUIRE(device.error == "");
  X509* signer = device.self_signed.get();
  EVP_PKEY* key = device.key.get();

  auto first = client.Send(device.csr_der, signer, key, {});
  INFO(first.Describe());
  REQUIRE(first.success());
  const std::string serial = scep::SerialHex(first.cert());

  {  // the same bytes again, by POST and by GET
    for (Transport t : {Transport::Post, Transport::GetPercentEncoded}) {
      auto again = client.Resend(first, t, signer, key);
      INFO(again.Describe());
      REQUIRE(again.success());
      CHECK(scep::SerialHex(again.cert()) == serial);
      CHECK(X509_cmp(again.cert(), first.cert()) == 0);
    }
  }
  {  // a new message with the same transactionID and CSR (fresh nonce and signature)
    auto again = client.Enroll(device, {.transaction_id = first.transaction_id});
    INFO(again.Describe());
    REQUIRE(again.success());
    CHECK(scep::SerialHex(again.cert()) == serial);
    CHECK(again.rep->recipient_nonce == again.sender_nonce);
  }
  {  // the same transactionID with a different CSR
    auto other = test::MakeDevice({.subject = {{"CN", "impostor"}}, .challenge = "test-challenge"}, SharedKey());
    REQUIRE(other.error == "");
    CheckSignedFailure(client.Enroll(other, {.transaction_id = first.transaction_id}), FailInfo::BadRequest,
                       client.ca());
  }
  const auto listing = test::ListCerts(gw.data_dir());
  CAPTURE(listing.output);
  CHECK(listing.count == 1);
  CHECK(listing.Has(serial));
}
