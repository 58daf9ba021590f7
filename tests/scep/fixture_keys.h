// Loading the openssl-made fixtures (tests/scep/make_openssl_fixtures.sh) and the sscep captures.
#pragma once

#include <cstdlib>

#include "scep/algorithms.h"
#include "tests/support/test_files.h"

namespace test {

inline std::filesystem::path OpensslFixtures() {
  const char* dir = std::getenv("OPENSSL_FIXTURES");
  return dir != nullptr ? dir : (BinaryDir() / "tests/scep/openssl-fixtures");
}
inline std::filesystem::path SscepFixtures() { return SourceDir() / "tests/fixtures/sscep"; }

inline scep::UniquePtr<X509> LoadCert(const std::filesystem::path& path) {
  auto cert = scep::CertFromPem(ReadText(path));
  return cert ? std::move(*cert) : nullptr;
}
inline scep::UniquePtr<EVP_PKEY> LoadKey(const std::filesystem::path& path) {
  auto key = scep::KeyFromPem(ReadText(path));
  return key ? std::move(*key) : nullptr;
}

// Single DES fixtures need OpenSSL's legacy provider, as the gateway loads it when configured.
inline void EnableDes() { (void)scep::EnableSingleDes(); }

// The fixture CA and a device with its self-signed signer certificate; other_ca is a CA that signed none of them.
struct Parties {
  scep::UniquePtr<X509> ca = LoadCert(OpensslFixtures() / "ca.pem");
  scep::UniquePtr<EVP_PKEY> ca_key = LoadKey(OpensslFixtures() / "ca.key");
  scep::UniquePtr<X509> device = LoadCert(OpensslFixtures() / "signer-rsa.pem");
  scep::UniquePtr<EVP_PKEY> device_key = LoadKey(OpensslFixtures() / "rsa.key");
  scep::UniquePtr<X509> other_ca = LoadCert(OpensslFixtures() / "other-ca.pem");
};

}  // namespace test
