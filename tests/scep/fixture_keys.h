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

}  // namespace test
