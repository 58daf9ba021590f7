// Looking at what the gateway answered, for the end-to-end suites: certificate fields, and doctest checks of
// SUCCESS, FAILURE and PENDING replies. Unlike scep_test_client.h this header asserts (doctest), so only test files include it.
#pragma once

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include "tests/support/scep_test_client.h"

namespace test {

// ---- looking at issued certificates -------------------------------------------------------------------------------

// The extendedKeyUsage OIDs of `cert`, dotted ("1.3.6.1.5.5.7.3.2"); empty without the extension.
inline std::vector<std::string> ExtendedKeyUsages(X509* cert) {
  std::vector<std::string> out;
  scep::UniquePtr<EXTENDED_KEY_USAGE> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    char buf[128] = {};
    OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(eku.get(), i), 1);
    out.emplace_back(buf);
  }
  return out;
}

// The DNS names and e-mail addresses of `cert`'s subjectAltName as "DNS:x" / "email:y" (other types: "other").
inline std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> out;
  scep::UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS && name->type != GEN_EMAIL) {
      out.emplace_back("other");
      continue;
    }
    const ASN1_IA5STRING* text = name->d.ia5;
    out.push_back((name->type == GEN_DNS ? "DNS:" : "email:") +
                  std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                              static_cast<std::size_t>(ASN1_STRING_length(text))));
  }
  return out;
}

// The value of the first `field` ("O", "CN") of a certificate's subject; "" when it has none.
inline std::string SubjectField(X509* cert, const std::string& field) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int nid = OBJ_txt2nid(field.c_str());
  const int index = nid == NID_undef ? -1 : X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<std::size_t>(ASN1_STRING_length(data)));
}

// The value of an "Authorization" header for HTTP Basic (RFC 7617).
inline std::string BasicAuthorization(const std::string& user, const std::string& password) {
  return "Basic " + Base64(scep::AsBytes(user + ":" + password));
}

// A SUCCESS signed by the certificate GetCACert published for signing, carrying a certificate for `d`'s key.
// Doctest assertions.
inline void CheckIssued(const ScepReply& reply, const Device& d) {
  INFO(reply.Describe());
  REQUIRE(reply.success());
  CHECK(reply.signature_ok);
  CHECK(reply.signed_by_published_signer);
  REQUIRE(reply.certs.size() >= 1);
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(reply.cert()), d.key.get()) == 1);
}

// A signed FAILURE with this failInfo whose failInfoText contains `text`, echoing transactionID and nonce.
inline void CheckFailure(const ScepReply& reply, scep::FailInfo expected, const std::string& text) {
  INFO(reply.Describe());
  REQUIRE(reply.rep.has_value());
  CHECK(reply.signature_ok);
  CHECK(reply.signed_by_published_signer);
  CHECK(reply.rep->pki_status == scep::PkiStatus::Failure);
  CHECK(reply.rep->fail_info == expected);
  CHECK(reply.rep->fail_info_text.find(text) != std::string::npos);
  CHECK(reply.certs.empty());
  CHECK(reply.rep->transaction_id == reply.transaction_id);
  CHECK(reply.rep->recipient_nonce == reply.sender_nonce);
}

// A signed PENDING without failInfo or certificates, echoing transactionID and nonce.
inline void CheckPending(const ScepReply& reply) {
  INFO(reply.Describe());
  REQUIRE(reply.rep.has_value());
  CHECK(reply.signature_ok);
  CHECK(reply.signed_by_published_signer);
  CHECK(reply.rep->pki_status == scep::PkiStatus::Pending);
  CHECK(!reply.rep->fail_info.has_value());
  CHECK(reply.certs.empty());
  CHECK(reply.rep->transaction_id == reply.transaction_id);
  CHECK(reply.rep->recipient_nonce == reply.sender_nonce);
}

// A device with subject "O=Integration Tests, CN=<cn>", the given challenge and requested keyUsage.
inline Device NamedDevice(const std::string& cn, const std::string& challenge, const std::string& key_usage = {}) {
  auto d = MakeDevice({.subject = {{"O", "Integration Tests"}, {"CN", cn}},
                       .challenge = challenge,
                       .key_usage = key_usage});
  REQUIRE(d.error == "");
  return d;
}

// `ca` issued `cert` and its signature verifies with the CA key.
inline bool ChainsTo(X509* cert, X509* ca) {
  return X509_check_issued(ca, cert) == X509_V_OK && X509_verify(cert, X509_get0_pubkey(ca)) == 1;
}

}  // namespace test
