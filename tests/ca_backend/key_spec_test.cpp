// KeySpec names, key generation and the digest each kind of CA key signs with.
#include <doctest/doctest.h>

#include "ca-backend/key_spec.h"

namespace {

TEST_CASE("key spec names round-trip") {
  for (const char* name : {"rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384"}) {
    const auto spec = ca::ParseKeySpec(name);
    REQUIRE(spec.has_value());
    CHECK(ca::to_string(*spec) == name);
  }
  CHECK_FALSE(ca::ParseKeySpec("rsa:1024").has_value());
  CHECK_FALSE(ca::ParseKeySpec("EC:P256").has_value());
  CHECK_FALSE(ca::ParseKeySpec("").has_value());
  CHECK(ca::to_string(static_cast<ca::KeySpec>(42)) == "unknown(42)");
}

TEST_CASE("generated keys have the requested kind and size, and the matching digest") {
  struct Case {
    ca::KeySpec spec;
    const char* type;
    int bits;
    int digest_nid;
  };
  for (const Case& c : {Case{ca::KeySpec::Rsa2048, "RSA", 2048, NID_sha256}, Case{ca::KeySpec::EcP256, "EC", 256, NID_sha256},
                        Case{ca::KeySpec::EcP384, "EC", 384, NID_sha384}}) {
    CAPTURE(ca::to_string(c.spec));
    auto key = ca::GenerateKey(c.spec);
    REQUIRE(key.ok());
    CHECK(EVP_PKEY_is_a(key->get(), c.type));
    CHECK(EVP_PKEY_get_bits(key->get()) == c.bits);
    REQUIRE(ca::SignatureDigest(key->get()) != nullptr);
    CHECK(EVP_MD_get_type(ca::SignatureDigest(key->get())) == c.digest_nid);
    CHECK(ca::CanDecrypt(key->get()) == (std::string_view(c.type) == "RSA"));
  }
}

}  // namespace
