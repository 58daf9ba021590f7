// Parsing operator-written subjects and deriving the RA's subject from the CA's.
#include <doctest/doctest.h>

#include "ca-backend/distinguished_name.h"
#include "scep/der.h"

namespace {

std::string Parsed(std::string_view text) {
  auto name = ca::ParseDistinguishedName(text);
  REQUIRE_MESSAGE(name.ok(), name.error().ToString());
  return scep::NameToString(name->get());
}

TEST_CASE("a subject written in RFC 4514 order prints back the same") {
  CHECK(Parsed("CN=SCEP Gateway CA") == "CN=SCEP Gateway CA");
  CHECK(Parsed("CN=Test CA,O=Example,C=NL") == "CN=Test CA,O=Example,C=NL");
  CHECK(Parsed(" CN = Spaced , O = Org ") == "CN=Spaced,O=Org");
}

TEST_CASE("values are stored as UTF-8") {
  auto name = ca::ParseDistinguishedName("CN=Ünïcödé CA");
  REQUIRE(name.ok());
  const X509_NAME_ENTRY* cn = X509_NAME_get_entry(name->get(), 0);
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(cn);
  CHECK(ASN1_STRING_type(value) == V_ASN1_UTF8STRING);
  CHECK(scep::AsString(scep::ByteView(ASN1_STRING_get0_data(value), static_cast<std::size_t>(ASN1_STRING_length(value)))) ==
        "Ünïcödé CA");
}

TEST_CASE("the most significant RDN is encoded first") {
  auto name = ca::ParseDistinguishedName("CN=Leaf,O=Org,C=NL");
  REQUIRE(name.ok());
  REQUIRE(X509_NAME_entry_count(name->get()) == 3);
  CHECK(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name->get(), 0))) == NID_countryName);
  CHECK(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name->get(), 2))) == NID_commonName);
}

TEST_CASE("an escaped comma stays inside its value") {
  auto name = ca::ParseDistinguishedName("CN=Acme\\, Inc. CA,C=US");
  REQUIRE(name.ok());
  CHECK(X509_NAME_entry_count(name->get()) == 2);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(name->get(), NID_commonName, cn, sizeof cn);
  CHECK(std::string(cn) == "Acme, Inc. CA");
}

TEST_CASE("malformed subjects are refused with BadRequest") {
  for (const char* bad : {"", "   ", "CN", "CN=", "=value", "CN=ok,,O=x", "NOPE=x", "C=Netherlands"}) {
    CAPTURE(bad);
    auto name = ca::ParseDistinguishedName(bad);
    REQUIRE_FALSE(name.ok());
    CHECK(name.error().code == scep::ErrorCode::BadRequest);
  }
}

TEST_CASE("the RA subject extends the CA's CN and keeps the other RDNs") {
  auto ca_name = ca::ParseDistinguishedName("CN=Test CA,OU=PKI,O=Example,C=NL");
  REQUIRE(ca_name.ok());
  auto ra = ca::MakeRaSubject(ca_name->get());
  REQUIRE(ra.ok());
  CHECK(scep::NameToString(ra->get()) == "CN=Test CA SCEP RA,OU=PKI,O=Example,C=NL");

  auto no_cn = ca::ParseDistinguishedName("O=Example,C=NL");
  REQUIRE(no_cn.ok());
  auto ra2 = ca::MakeRaSubject(no_cn->get());
  REQUIRE(ra2.ok());
  CHECK(scep::NameToString(ra2->get()) == "CN=SCEP RA,O=Example,C=NL");
}

}  // namespace
