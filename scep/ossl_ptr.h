// The one place that knows how each OpenSSL object is freed.
//
// Every OpenSSL object the project owns is held by scep::UniquePtr<T>, whose deleter is chosen here, in the spirit
// of BoringSSL's bssl::UniquePtr. A raw OpenSSL pointer anywhere else means "borrowed". Add a line below when the
// project starts using a new type; never call a *_free function outside this header.
#pragma once

#include <memory>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace scep {

template <typename T>
struct Deleter;  // deliberately undefined: a type without a specialisation below does not compile

#define SCEP_DEFINE_DELETER(type, free_fn)                    \
  template <>                                                 \
  struct Deleter<type> {                                      \
    void operator()(type* p) const noexcept { free_fn(p); }   \
  }

SCEP_DEFINE_DELETER(ASN1_STRING, ASN1_STRING_free);  // also ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_TIME, ...
SCEP_DEFINE_DELETER(ASN1_OBJECT, ASN1_OBJECT_free);
SCEP_DEFINE_DELETER(ASN1_TYPE, ASN1_TYPE_free);
SCEP_DEFINE_DELETER(BIGNUM, BN_free);
SCEP_DEFINE_DELETER(BIO, BIO_free_all);
SCEP_DEFINE_DELETER(CMS_ContentInfo, CMS_ContentInfo_free);
SCEP_DEFINE_DELETER(EVP_CIPHER, EVP_CIPHER_free);
SCEP_DEFINE_DELETER(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free);
SCEP_DEFINE_DELETER(EVP_MD, EVP_MD_free);
SCEP_DEFINE_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
SCEP_DEFINE_DELETER(EVP_PKEY, EVP_PKEY_free);
SCEP_DEFINE_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
SCEP_DEFINE_DELETER(OSSL_PROVIDER, OSSL_PROVIDER_unload);
SCEP_DEFINE_DELETER(PKCS7, PKCS7_free);
SCEP_DEFINE_DELETER(PKCS7_ISSUER_AND_SERIAL, PKCS7_ISSUER_AND_SERIAL_free);
SCEP_DEFINE_DELETER(X509, X509_free);
SCEP_DEFINE_DELETER(X509_ALGOR, X509_ALGOR_free);
SCEP_DEFINE_DELETER(X509_ATTRIBUTE, X509_ATTRIBUTE_free);
SCEP_DEFINE_DELETER(X509_CRL, X509_CRL_free);
SCEP_DEFINE_DELETER(X509_EXTENSION, X509_EXTENSION_free);
SCEP_DEFINE_DELETER(X509_NAME, X509_NAME_free);
SCEP_DEFINE_DELETER(X509_REQ, X509_REQ_free);
SCEP_DEFINE_DELETER(X509_REVOKED, X509_REVOKED_free);
SCEP_DEFINE_DELETER(X509_STORE, X509_STORE_free);
SCEP_DEFINE_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
SCEP_DEFINE_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free);
SCEP_DEFINE_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
SCEP_DEFINE_DELETER(ISSUING_DIST_POINT, ISSUING_DIST_POINT_free);

// Stacks are distinct struct types, so each gets the pop_free that also frees its elements.
SCEP_DEFINE_DELETER(STACK_OF(X509), [](STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); });
SCEP_DEFINE_DELETER(STACK_OF(X509_CRL), [](STACK_OF(X509_CRL)* s) { sk_X509_CRL_pop_free(s, X509_CRL_free); });
SCEP_DEFINE_DELETER(STACK_OF(X509_EXTENSION),
                    [](STACK_OF(X509_EXTENSION)* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); });
SCEP_DEFINE_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);
SCEP_DEFINE_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free);
SCEP_DEFINE_DELETER(CRL_DIST_POINTS, CRL_DIST_POINTS_free);
SCEP_DEFINE_DELETER(AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free);

#undef SCEP_DEFINE_DELETER

template <typename T>
using UniquePtr = std::unique_ptr<T, Deleter<T>>;

// Buffers OpenSSL allocates for us (i2d_* output, X509_NAME_oneline, BN_bn2hex ...).
struct OpensslFree {
  void operator()(void* p) const noexcept { OPENSSL_free(p); }
};
using OpensslBytes = std::unique_ptr<unsigned char, OpensslFree>;
using OpensslString = std::unique_ptr<char, OpensslFree>;

// Keeps a borrowed X509 alive past the lifetime of its owner.
inline UniquePtr<X509> UpRef(X509* cert) {
  if (cert != nullptr) X509_up_ref(cert);
  return UniquePtr<X509>(cert);
}
inline UniquePtr<EVP_PKEY> UpRef(EVP_PKEY* key) {
  if (key != nullptr) EVP_PKEY_up_ref(key);
  return UniquePtr<EVP_PKEY>(key);
}

}  // namespace scep
