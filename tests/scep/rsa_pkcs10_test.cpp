// The RSA PKCS#10 fast path must give the very request d2i_X509_REQ gives, or nothing.
#include <doctest/doctest.h>

#include "scep/rsa_pkcs10.h"
#include "tests/scep/fixture_keys.h"

using namespace scep;

namespace {

UniquePtr<X509_REQ> DecodeWithOpenssl(const Bytes& der) {
  const unsigned char* p = der.data();
  return UniquePtr<X509_REQ>(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
}

}  // namespace

TEST_CASE("RSA requests made by openssl req: same subject, key, attributes and encoding as d2i_X509_REQ") {
  for (const char* file : {"csr-printable.der", "csr-utf8.der"}) {
    CAPTURE(file);
    const Bytes der = test::ReadFile(test::OpensslFixtures() / file);
    UniquePtr<X509_REQ> fast = DecodeRsaPkcs10(der);
    UniquePtr<X509_REQ> slow = DecodeWithOpenssl(der);
    REQUIRE(fast);
    REQUIRE(slow);
    CHECK(ReqToDer(fast.get()).value() == der);
    CHECK(X509_NAME_cmp(X509_REQ_get_subject_name(fast.get()), X509_REQ_get_subject_name(slow.get())) == 0);
    CHECK(EVP_PKEY_eq(X509_REQ_get0_pubkey(fast.get()), X509_REQ_get0_pubkey(slow.get())) == 1);
    CHECK(X509_REQ_get_attr_count(fast.get()) == X509_REQ_get_attr_count(slow.get()));
    CHECK(X509_REQ_verify(fast.get(), X509_REQ_get0_pubkey(fast.get())) == 1);
  }
}

TEST_CASE("anything else is left to d2i_X509_REQ") {
  const Bytes ec = test::ReadFile(test::OpensslFixtures() / "csr-bmp.der");
  CHECK_FALSE(DecodeRsaPkcs10(ec));
  Bytes rsa = test::ReadFile(test::OpensslFixtures() / "csr-printable.der");
  CHECK_FALSE(DecodeRsaPkcs10(Bytes(rsa.begin(), rsa.end() - 1)));  // truncated
  rsa.push_back(0);
  CHECK_FALSE(DecodeRsaPkcs10(rsa));  // trailing byte
  CHECK_FALSE(DecodeRsaPkcs10({}));
  const Bytes garbage{0x30, 0x80, 0x00, 0x00};  // indefinite length (BER)
  CHECK_FALSE(DecodeRsaPkcs10(garbage));
}
