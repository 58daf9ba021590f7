// Parsing operator-written subjects, deriving the RA's subject from the CA's, and policy overrides of a subject.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

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
  auto ra = ca::MakeRaSubject(ca_name->get(), "RA");
  REQUIRE(ra.ok());
  CHECK(scep::NameToString(ra->get()) == "CN=Test CA RA,OU=PKI,O=Example,C=NL");
  auto signing = ca::MakeRaSubject(ca_name->get(), "RA Signing");
  REQUIRE(signing.ok());
  CHECK(scep::NameToString(signing->get()) == "CN=Test CA RA Signing,OU=PKI,O=Example,C=NL");

  auto no_cn = ca::ParseDistinguishedName("O=Example,C=NL");
  REQUIRE(no_cn.ok());
  auto ra2 = ca::MakeRaSubject(no_cn->get(), "RA");
  REQUIRE(ra2.ok());
  CHECK(scep::NameToString(ra2->get()) == "CN=SCEP RA,O=Example,C=NL");
}

using Overrides = std::vector<std::pair<std::string, std::string>>;

std::string Overridden(std::string_view subject, const Overrides& overrides) {
  auto name = ca::ParseDistinguishedName(subject);
  REQUIRE(name.ok());
  auto out = ca::OverrideSubject(name->get(), overrides);
  REQUIRE_MESSAGE(out.ok(), out.error().ToString());
  return scep::NameToString(out->get());
}

int AsnTypeOf(const X509_NAME* name, int nid) {
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  REQUIRE(at >= 0);
  return ASN1_STRING_type(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
}

TEST_CASE("OverrideSubject replaces every RDN of a type where the first one was, or appends") {
  CHECK(Overridden("CN=dev,O=Theirs,C=NL", {{"O", "Ours"}}) == "CN=dev,O=Ours,C=NL");
  // Both OUs go; the new one takes the place of the first (the one nearest the root).
  CHECK(Overridden("CN=dev,OU=b,OU=a,O=Org", {{"OU", "z"}}) == "CN=dev,OU=z,O=Org");
  // Appended as the last (most specific) RDN when absent.
  CHECK(Overridden("CN=dev,C=NL", {{"O", "Ours"}}) == "O=Ours,CN=dev,C=NL");
  // Several values of one type land together, in the order given; long names and OIDs name types too.
  CHECK(Overridden("CN=dev,OU=x,O=Org", {{"OU", "one"}, {"organizationName", "New"}, {"2.5.4.11", "two"}}) ==
        "CN=dev,OU=two,OU=one,O=New");
  CHECK(Overridden("CN=dev", {}) == "CN=dev");

  scep::UniquePtr<X509_NAME> none(X509_NAME_new());  // an empty subject: everything is appended
  auto filled = ca::OverrideSubject(none.get(), Overrides{{"C", "DE"}, {"CN", "forced"}});
  REQUIRE(filled.ok());
  CHECK(scep::NameToString(filled->get()) == "CN=forced,C=DE");
  CHECK(AsnTypeOf(filled->get(), NID_countryName) == V_ASN1_PRINTABLESTRING);
  CHECK(AsnTypeOf(filled->get(), NID_commonName) == V_ASN1_UTF8STRING);
}

TEST_CASE("OverrideSubject keeps multi-valued RDNs together") {
  scep::UniquePtr<X509_NAME> name(X509_NAME_new());
  const auto add = [&](const char* type, const char* value, int set) {
    REQUIRE(X509_NAME_add_entry_by_txt(name.get(), type, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value),
                                       -1, -1, set) == 1);
  };
  add("C", "NL", 0);
  add("O", "Org", 0);
  add("OU", "unit", -1);  // O=Org+OU=unit
  add("CN", "dev", 0);
  auto out = ca::OverrideSubject(name.get(), Overrides{{"O", "New"}});
  REQUIRE(out.ok());
  REQUIRE(X509_NAME_entry_count(out->get()) == 4);
  const auto set_of = [&](int i) { return X509_NAME_ENTRY_set(X509_NAME_get_entry(out->get(), i)); };
  CHECK(set_of(1) == set_of(2));  // New and unit still share one RDN
  CHECK(set_of(0) != set_of(1));
  CHECK(set_of(3) != set_of(2));
  char o[32] = {};
  X509_NAME_get_text_by_NID(out->get(), NID_organizationName, o, sizeof o);
  CHECK(std::string(o) == "New");
}

TEST_CASE("OverrideSubject refuses unknown types and values the type does not allow") {
  auto name = ca::ParseDistinguishedName("CN=dev,C=NL");
  REQUIRE(name.ok());
  for (const Overrides& bad : {Overrides{{"NoSuchType", "x"}}, Overrides{{"O", ""}}, Overrides{{"C", "NLD"}}}) {
    CAPTURE(bad.front().first);
    auto out = ca::OverrideSubject(name->get(), bad);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().code == scep::ErrorCode::BadRequest);
  }
}

}  // namespace
