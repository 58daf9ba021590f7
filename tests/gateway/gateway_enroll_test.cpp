// First enrollment against the running gateway, for every way clients send a PKIOperation (POST with and without a
// proper Content-Type, GET with each base64 flavour) and every cipher and digest clients use. The issued
// certificates are checked with the OpenSSL API and the openssl CLI, and looked up with `scep-gateway certs list`.
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "tests/support/gateway_process.h"
#include "tests/support/scep_test_client.h"

using scep::ContentCipher;
using scep::Digest;
using test::Transport;

namespace {

const char* const kSans = "DNS:device.example.com,DNS:alt.example.com,IP:10.1.2.3,IP:2001:db8::7,"
                          "email:device@example.com,URI:https://device.example.com/id/42";
const std::set<std::string> kExpectedSans{"DNS:device.example.com", "DNS:alt.example.com",
                                          "IP:10.1.2.3",            "IP:2001:db8::7",
                                          "email:device@example.com", "URI:https://device.example.com/id/42"};

std::string Ia5(const ASN1_IA5STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// The certificate's subjectAltNames, spelled as OpenSSL's config syntax spells them.
std::set<std::string> SansOf(X509* cert) {
  std::set<std::string> out;
  scep::UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    switch (n->type) {
      case GEN_DNS: out.insert("DNS:" + Ia5(n->d.dNSName)); break;
      case GEN_EMAIL: out.insert("email:" + Ia5(n->d.rfc822Name)); break;
      case GEN_URI: out.insert("URI:" + Ia5(n->d.uniformResourceIdentifier)); break;
      case GEN_IPADD: {
        char text[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(n->d.iPAddress);
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), text, sizeof text);
        out.insert(std::string("IP:") + text);
        break;
      }
      default: out.insert("other:" + std::to_string(n->type));
    }
  }
  return out;
}

// What `openssl cms -cmsout -print` names as the contentEncryptionAlgorithm of an EnvelopedData.
std::string EnvelopeCipherByOpenssl(const scep::Bytes& envelope, const test::TempDir& dir) {
  test::WriteFile(dir / "envelope.der", envelope);
  std::string out;
  if (test::Run("openssl cms -cmsout -print -inform DER -in " + (dir / "envelope.der").string(), &out) != 0) {
    return "openssl failed: " + out;
  }
  const auto at = out.find("contentEncryptionAlgorithm:");
  const auto alg = out.find("algorithm: ", at == std::string::npos ? out.size() : at);
  if (alg == std::string::npos) return "no contentEncryptionAlgorithm in: " + out;
  const auto start = alg + std::string("algorithm: ").size();
  return out.substr(start, out.find(' ', start) - start);
}

const char* CmsName(ContentCipher c) {
  switch (c) {
    case ContentCipher::DesCbc: return "des-cbc";
    case ContentCipher::DesEde3Cbc: return "des-ede3-cbc";
    case ContentCipher::Aes128Cbc: return "aes-128-cbc";
    case ContentCipher::Aes192Cbc: return "aes-192-cbc";
    case ContentCipher::Aes256Cbc: return "aes-256-cbc";
  }
  return "?";
}

int SignatureAlgorithmNid(const scep::PkiMessage& m) {
  X509_ALGOR* sig = nullptr;
  CMS_SignerInfo_get0_algs(m.signed_data.signer_info, nullptr, nullptr, nullptr, &sig);
  return sig != nullptr ? OBJ_obj2nid(sig->algorithm) : NID_undef;
}

// Everything the issue asks of an issued certificate that the OpenSSL API can tell.
void CheckIssuedCert(X509* cert, const test::Device& device, X509* ca) {
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert), X509_REQ_get_subject_name(device.csr.get())) == 0);
  CHECK(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca)) == 0);
  CHECK(SansOf(cert) == kExpectedSans);
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(cert), device.key.get()) == 1);

  scep::UniquePtr<BIGNUM> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  REQUIRE(serial != nullptr);
  CHECK(!BN_is_negative(serial.get()));
  CHECK(BN_num_bits(serial.get()) >= 64);

  scep::UniquePtr<BASIC_CONSTRAINTS> bc(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)));
  REQUIRE(bc != nullptr);
  CHECK(bc->ca == 0);
  CHECK(X509_get_key_usage(cert) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  CHECK(X509_get_extended_key_usage(cert) == XKU_SSL_CLIENT);
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert);
  REQUIRE(ski != nullptr);
  REQUIRE(aki != nullptr);
  REQUIRE(X509_get0_subject_key_id(ca) != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca)) == 0);
}

}  // namespace

TEST_CASE("PKCSReq succeeds for every transport, cipher and digest, and the certificate is right") {
  test::GatewayProcess gw;
  test::TempDir dir;
  test::ScepTestClient client(gw.port(), "/cgi-bin/pkiclient.exe");
  REQUIRE(client.FetchCa() == "");
  auto key = scep::UniquePtr<EVP_PKEY>(EVP_RSA_gen(2048));
  REQUIRE(key != nullptr);

  std::vector<std::string> serials;
  std::string cert_files;
  int n = 0;
  for (Transport transport : {Transport::Post, Transport::PostNoContentType, Transport::PostWrongContentType,
                              Transport::GetPercentEncoded, Transport::GetBase64Url, Transport::GetRawPlus,
                              Transport::GetLineBreaks, Transport::GetNoPadding}) {
    for (ContentCipher cipher :
         {ContentCipher::Aes128Cbc, ContentCipher::Aes256Cbc, ContentCipher::DesEde3Cbc, ContentCipher::DesCbc}) {
      for (Digest digest : {Digest::Sha1, Digest::Sha256, Digest::Sha512}) {
        const std::string name = std::string(test::to_string(transport)) + " " + scep::to_string(cipher) + " " +
                                 scep::to_string(digest);
        CAPTURE(name);
        auto device = test::MakeDevice(
            {.subject = {{"C", "DE"}, {"O", "Integration Tests"}, {"CN", "enroll-" + std::to_string(n)}},
             .sans = kSans,
             .challenge = "test-challenge"},
            key.get());
        REQUIRE(device.error == "");
        auto reply = client.Enroll(device, {.cipher = cipher, .digest = digest, .transport = transport});
        INFO(reply.Describe());
        REQUIRE(reply.rep.has_value());
        CHECK(reply.content_type == "application/x-pki-message");
        CHECK(reply.signature_ok);
        CHECK(X509_cmp(reply.rep->signer_cert(), client.ca()) == 0);
        CHECK(SignatureAlgorithmNid(*reply.rep) == NID_rsaEncryption);
        CHECK(reply.rep->signed_data.digest == digest);
        CHECK(reply.rep->message_type == scep::MessageType::CertRep);
        CHECK(reply.rep->transaction_id == reply.transaction_id);
        CHECK(reply.rep->recipient_nonce == reply.sender_nonce);
        CHECK(reply.rep->sender_nonce.size() >= 8);
        CHECK(reply.rep->sender_nonce != reply.sender_nonce);
        REQUIRE(reply.success());
        CHECK(EnvelopeCipherByOpenssl(reply.rep->envelope(), dir) == CmsName(cipher));
        REQUIRE(reply.certs.size() == 1);
        CheckIssuedCert(reply.cert(), device, client.ca());

        serials.push_back(scep::SerialHex(reply.cert()));
        const auto file = dir / ("cert-" + std::to_string(n++) + ".pem");
        auto pem = scep::CertToPem(reply.cert());
        REQUIRE(pem.ok());
        test::WriteText(file, *pem);
        cert_files += " " + file.string();
      }
    }
  }

  // Every certificate chains to the CA, says openssl.
  std::string out;
  const int rc = test::Run("openssl verify -CAfile " + gw.ca_pem().string() + cert_files, &out);
  CAPTURE(out);
  CHECK(rc == 0);
  CHECK(static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')) == serials.size());
  CHECK(out.find("error") == std::string::npos);

  // Distinct serials, each one a row in the SQLite store, and nothing else there.
  CHECK(std::set<std::string>(serials.begin(), serials.end()).size() == serials.size());
  const auto listing = test::ListCerts(gw.data_dir());
  CAPTURE(listing.output);
  CHECK(listing.exit_code == 0);
  CHECK(listing.count == static_cast<int>(serials.size()));
  for (const auto& serial : serials) {
    CAPTURE(serial);
    CHECK(listing.Has(serial));
  }
}

TEST_CASE("the openssl CLI reads the certificate extensions the same way") {
  test::GatewayProcess gw;
  test::TempDir dir;
  test::ScepTestClient client(gw.port());
  REQUIRE(client.FetchCa() == "");
  auto device = test::MakeDevice({.subject = {{"CN", "cli-check"}}, .sans = kSans, .challenge = "test-challenge"});
  REQUIRE(device.error == "");
  auto reply = client.Enroll(device);
  INFO(reply.Describe());
  REQUIRE(reply.success());
  auto pem = scep::CertToPem(reply.cert());
  REQUIRE(pem.ok());
  test::WriteText(dir / "cert.pem", *pem);
  std::string text;
  REQUIRE(test::Run("openssl x509 -noout -text -in " + (dir / "cert.pem").string(), &text) == 0);
  CAPTURE(text);
  for (const char* expected :
       {"CA:FALSE", "Digital Signature, Key Encipherment", "TLS Web Client Authentication",
        "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier", "DNS:device.example.com",
        "IP Address:10.1.2.3", "email:device@example.com", "URI:https://device.example.com/id/42",
        "Subject: CN = cli-check"}) {
    CAPTURE(expected);
    CHECK(text.find(expected) != std::string::npos);
  }
}
