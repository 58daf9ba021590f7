// EnrollmentPolicy against CSRs made with the OpenSSL API: templates by requested keyUsage, each rule, each change.
#include <doctest/doctest.h>

#include <openssl/x509v3.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/enrollment_policy.h"
#include "scep/der.h"
#include "scep/pkcs_req.h"
#include "scep/rsa_pkcs10.h"

using gateway::Decision;
using gateway::EnrollmentPolicy;

namespace {

// Keys are made once: RSA key generation is the slow part of these tests.
EVP_PKEY* Key(const std::string& kind) {
  static const auto rsa1024 = scep::UniquePtr<EVP_PKEY>(EVP_RSA_gen(1024));
  static const auto rsa2048 = scep::UniquePtr<EVP_PKEY>(EVP_RSA_gen(2048));
  static const auto p256 = scep::UniquePtr<EVP_PKEY>(EVP_EC_gen("P-256"));
  static const auto p521 = scep::UniquePtr<EVP_PKEY>(EVP_EC_gen("P-521"));
  if (kind == "rsa1024") return rsa1024.get();
  if (kind == "p256") return p256.get();
  if (kind == "p521") return p521.get();
  return rsa2048.get();
}

struct CsrSpec {
  std::string key = "rsa2048";
  std::vector<std::pair<std::string, std::string>> subject{{"CN", "host1.corp.example"}};
  std::string sans;  // OpenSSL config syntax, "" = no extension
  std::string key_usage;
  std::string extended_key_usage;
};

void AddExtension(X509_REQ* req, STACK_OF(X509_EXTENSION)* exts, int nid, const std::string& value) {
  if (value.empty()) return;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, nullptr, req, nullptr, 0);
  scep::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  REQUIRE_MESSAGE(ext, "cannot make extension ", value);
  REQUIRE(sk_X509_EXTENSION_push(exts, ext.get()) > 0);
  ext.release();  // the stack owns it now
}

scep::Bytes MakeCsrDer(const CsrSpec& spec) {
  EVP_PKEY* key = Key(spec.key);
  REQUIRE(key != nullptr);
  scep::UniquePtr<X509_REQ> req(X509_REQ_new());
  scep::UniquePtr<X509_NAME> name(X509_NAME_new());
  for (const auto& [field, value] : spec.subject) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(value.c_str());
    REQUIRE(X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8, bytes, -1, -1, 0) == 1);
  }
  REQUIRE(X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) == 1);
  REQUIRE(X509_REQ_set_subject_name(req.get(), name.get()) == 1);
  REQUIRE(X509_REQ_set_pubkey(req.get(), key) == 1);
  scep::UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
  AddExtension(req.get(), exts.get(), NID_subject_alt_name, spec.sans);
  AddExtension(req.get(), exts.get(), NID_key_usage, spec.key_usage);
  AddExtension(req.get(), exts.get(), NID_ext_key_usage, spec.extended_key_usage);
  if (sk_X509_EXTENSION_num(exts.get()) > 0) REQUIRE(X509_REQ_add_extensions(req.get(), exts.get()) == 1);
  REQUIRE(X509_REQ_sign(req.get(), key, EVP_sha256()) > 0);
  auto der = scep::ReqToDer(req.get());
  REQUIRE(der.ok());
  return *der;
}

scep::CertificationRequest MakeCsr(const CsrSpec& spec) {
  auto csr = scep::ParsePkcsReq(MakeCsrDer(spec));
  REQUIRE_MESSAGE(csr.ok(), csr.error().ToString());
  return std::move(*csr);
}

config::EndpointConfig Endpoint() {
  config::EndpointConfig e;
  e.name = "test";
  e.certificate.validity_days = 365;
  return e;
}

gateway::PolicyDecision Evaluate(const config::EndpointConfig& endpoint, const CsrSpec& spec) {
  return EnrollmentPolicy(endpoint).Evaluate(MakeCsr(spec));
}

}  // namespace

TEST_CASE("the CSR's requested extendedKeyUsage is parsed, on the RSA fast path and the generic one") {
  CsrSpec rsa;
  rsa.extended_key_usage = "clientAuth,1.2.3.4.5";
  const auto der = MakeCsrDer(rsa);
  CHECK(scep::DecodeRsaPkcs10(der) != nullptr);  // this request does take the fast path
  auto parsed = scep::ParsePkcsReq(der);
  REQUIRE(parsed.ok());
  CHECK(parsed->extended_key_usage == std::vector<std::string>{"clientAuth", "1.2.3.4.5"});

  CsrSpec ec;
  ec.key = "p256";
  ec.extended_key_usage = "serverAuth";
  CHECK(MakeCsr(ec).extended_key_usage == std::vector<std::string>{"serverAuth"});
  CHECK(MakeCsr(CsrSpec{}).extended_key_usage.empty());
}

TEST_CASE("the template follows the requested keyUsage, as NDES does") {
  auto endpoint = Endpoint();
  endpoint.certificate.key_usage = {"digitalSignature", "keyEncipherment"};
  config::CertificateConfig signature;
  signature.validity_days = 100;
  signature.key_usage = {"digitalSignature", "nonRepudiation"};
  signature.extended_key_usage = {"emailProtection"};
  signature.crl_distribution_points = {"http://crl.example/sig.crl"};
  signature.ca_issuers_urls = {"http://ca.example/ca.cer"};
  endpoint.templates.signature = signature;

  CsrSpec spec;
  spec.key_usage = "digitalSignature";
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Issue);
  CHECK(d.template_kind == "signature");
  CHECK(d.cert_template.validity_days == 100);
  CHECK(d.cert_template.key_usage == signature.key_usage);
  CHECK(d.cert_template.extended_key_usage == signature.extended_key_usage);
  CHECK(d.cert_template.crl_distribution_points == signature.crl_distribution_points);
  CHECK(d.cert_template.ca_issuers_urls == signature.ca_issuers_urls);

  spec.key_usage = "digitalSignature,nonRepudiation";
  CHECK(Evaluate(endpoint, spec).template_kind == "signature");

  // No encryption template: encipherment-only falls back to the general one.
  spec.key_usage = "keyEncipherment";
  d = Evaluate(endpoint, spec);
  CHECK(d.template_kind == "general");
  CHECK(d.cert_template.validity_days == 365);
  CHECK(d.cert_template.key_usage == endpoint.certificate.key_usage);

  config::CertificateConfig encryption;
  encryption.validity_days = 200;
  encryption.key_usage = {"keyEncipherment"};
  endpoint.templates.encryption = encryption;
  for (const char* usage : {"keyEncipherment", "dataEncipherment", "keyAgreement"}) {
    CAPTURE(usage);
    spec.key_usage = usage;
    d = Evaluate(endpoint, spec);
    CHECK(d.template_kind == "encryption");
    CHECK(d.cert_template.validity_days == 200);
  }
  spec.key_usage = "digitalSignature,keyEncipherment";  // both: general purpose
  CHECK(Evaluate(endpoint, spec).template_kind == "general");
  spec.key_usage = "";  // none requested: general purpose
  CHECK(Evaluate(endpoint, spec).template_kind == "general");
}

TEST_CASE("policy.subject: every value of the RDN must match, and the RDN must be there") {
  auto endpoint = Endpoint();
  endpoint.policy.subject = {R"(CN=^[a-z0-9-]+\.corp\.example$)"};
  CsrSpec spec;
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);

  spec.subject = {{"CN", "evil"}};
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == R"(policy: subject CN 'evil' does not match ^[a-z0-9-]+\.corp\.example$)");

  spec.subject = {{"O", "Example"}};
  d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: subject has no CN (required by policy.subject)");

  spec.subject = {{"CN", "a.corp.example"}, {"CN", "b.other.example"}};
  d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason.find("'b.other.example'") != std::string::npos);

  // Search semantics: without anchors a part of the value is enough.
  endpoint.policy.subject = {"O=Exam", "CN=corp"};
  spec.subject = {{"O", "Example Inc"}, {"CN", "x.corp.example"}};
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
  spec.subject = {{"O", "Other"}, {"CN", "x.corp.example"}};
  CHECK(Evaluate(endpoint, spec).reason == "policy: subject O 'Other' does not match Exam");
}

TEST_CASE("a template's own subject rules apply only when that template is chosen") {
  auto endpoint = Endpoint();
  config::CertificateConfig signature;
  signature.key_usage = {"digitalSignature"};
  signature.subject = {"CN=^sig-"};
  endpoint.templates.signature = signature;
  endpoint.certificate.subject = {"OU=^Devices$"};

  CsrSpec spec;
  spec.key_usage = "digitalSignature";
  spec.subject = {{"CN", "sig-router1"}};
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
  spec.subject = {{"CN", "router1"}};
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: subject CN 'router1' does not match ^sig- (the signature template)");

  // Both usages: the general template, whose rule wants an OU.
  spec.key_usage = "digitalSignature, keyEncipherment";
  d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: subject has no OU (required by the general template)");
  spec.subject = {{"OU", "Devices"}, {"CN", "router1"}};
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
}

TEST_CASE("a template can hold its requests for approval, or issue them while the policy holds the rest") {
  auto endpoint = Endpoint();
  config::CertificateConfig encryption;
  encryption.key_usage = {"keyEncipherment"};
  encryption.approval = "manual";
  endpoint.templates.encryption = encryption;
  CsrSpec spec;
  spec.key_usage = "keyEncipherment";
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Pend);
  CHECK(d.reason == "manual approval required (the encryption template's approval: manual)");
  spec.key_usage = "digitalSignature, keyEncipherment";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);

  endpoint.policy.approval = "manual";
  endpoint.certificate.approval = "auto";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);  // the general template overrides the policy
  endpoint.certificate.approval = "";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Pend);
}

TEST_CASE("policy.key_types: minimum RSA size and allowed curves") {
  auto endpoint = Endpoint();  // default: rsa:2048, ec:p256, ec:p384
  CsrSpec spec;
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
  spec.key = "p256";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);

  spec.key = "rsa1024";
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: RSA key of 1024 bits is below the minimum 2048");

  spec.key = "p521";
  d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: EC curve secp521r1 not allowed (key_types)");

  endpoint.policy.key_types = {"ec:p521"};
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
  spec.key = "rsa2048";
  CHECK(Evaluate(endpoint, spec).reason == "policy: RSA keys not allowed (key_types)");

  endpoint.policy.key_types = {};  // no rule
  spec.key = "rsa1024";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
}

TEST_CASE("policy.san_patterns with disallowed_sans refuse and drop") {
  auto endpoint = Endpoint();
  endpoint.policy.san_patterns = {R"(DNS=\.corp\.example$)", R"(IP=^10\.)"};
  CsrSpec spec;
  spec.sans = "DNS:a.corp.example,IP:10.1.2.3";
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Issue);
  CHECK_FALSE(d.cert_template.subject_alt_names.has_value());  // refuse mode copies an acceptable extension

  spec.sans = "DNS:a.corp.example,DNS:x.other";
  d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: SAN DNS:x.other not allowed by policy.san_patterns");
  spec.sans = "DNS:a.corp.example,email:a@corp.example";  // no email pattern at all
  CHECK(Evaluate(endpoint, spec).reason == "policy: SAN email:a@corp.example not allowed by policy.san_patterns");

  endpoint.policy.disallowed_sans = "drop";
  spec.sans = "DNS:a.corp.example,DNS:x.other,IP:192.0.2.1,IP:10.0.0.9";
  d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Issue);
  REQUIRE(d.cert_template.subject_alt_names.has_value());
  CHECK(*d.cert_template.subject_alt_names == std::vector<std::string>{"DNS:a.corp.example", "IP:10.0.0.9"});

  endpoint.policy.san_patterns = {};  // any SAN allowed
  endpoint.policy.disallowed_sans = "refuse";
  spec.sans = "DNS:anything.example";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
}

TEST_CASE("policy.required_san_types counts the SANs that will be issued") {
  auto endpoint = Endpoint();
  endpoint.policy.required_san_types = {"DNS"};
  CsrSpec spec;
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: a DNS SAN is required");
  spec.sans = "DNS:a.corp.example";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);

  endpoint.policy.required_san_types = {"DNS", "IP"};
  CHECK(Evaluate(endpoint, spec).reason == "policy: an IP SAN is required");

  endpoint.policy.required_san_types = {"DNS"};
  endpoint.policy.san_patterns = {R"(DNS=\.corp\.example$)"};
  endpoint.policy.disallowed_sans = "drop";
  spec.sans = "DNS:x.other";
  CHECK(Evaluate(endpoint, spec).reason == "policy: a DNS SAN is required");
}

TEST_CASE("policy.allowed_key_usages and allowed_extended_key_usages") {
  auto endpoint = Endpoint();
  endpoint.policy.allowed_key_usages = {"digitalSignature", "keyEncipherment"};
  endpoint.policy.allowed_extended_key_usages = {"clientAuth", "1.3.6.1.5.5.7.3.1"};  // serverAuth by OID
  CsrSpec spec;
  spec.key_usage = "digitalSignature,keyEncipherment";
  spec.extended_key_usage = "clientAuth,serverAuth";
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);

  spec.key_usage = "digitalSignature,keyAgreement";
  auto d = Evaluate(endpoint, spec);
  CHECK(d.decision == Decision::Deny);
  CHECK(d.reason == "policy: requested keyUsage keyAgreement not allowed");

  spec.key_usage = "digitalSignature";
  spec.extended_key_usage = "clientAuth,codeSigning";
  CHECK(Evaluate(endpoint, spec).reason == "policy: requested extendedKeyUsage codeSigning not allowed");
  spec.extended_key_usage = "1.2.3.4.5";
  CHECK(Evaluate(endpoint, spec).reason == "policy: requested extendedKeyUsage 1.2.3.4.5 not allowed");
  spec.extended_key_usage = "";  // nothing requested: nothing to refuse
  CHECK(Evaluate(endpoint, spec).decision == Decision::Issue);
}

TEST_CASE("changes: forced RDNs and capped validity; the first failing rule is reported") {
  auto endpoint = Endpoint();
  endpoint.policy.force_subject = {"O=Example", "OU=Devices=All"};
  endpoint.policy.max_validity_days = 30;
  auto d = Evaluate(endpoint, CsrSpec{});
  CHECK(d.decision == Decision::Issue);
  CHECK(d.cert_template.force_subject ==
        std::vector<std::pair<std::string, std::string>>{{"O", "Example"}, {"OU", "Devices=All"}});
  CHECK(d.cert_template.validity_days == 30);

  endpoint.policy.max_validity_days = 1000;  // a cap above the template changes nothing
  CHECK(Evaluate(endpoint, CsrSpec{}).cert_template.validity_days == 365);

  endpoint.policy.subject = {"CN=^ok$"};
  CsrSpec both_wrong;
  both_wrong.key = "rsa1024";
  CHECK(Evaluate(endpoint, both_wrong).reason.starts_with("policy: subject CN"));
}

TEST_CASE("approval: manual pends a request that passes, and a failing one is still denied") {
  auto endpoint = Endpoint();
  endpoint.policy.approval = "manual";
  auto d = Evaluate(endpoint, CsrSpec{});
  CHECK(d.decision == Decision::Pend);
  CHECK(d.reason == "manual approval required (policy.approval: manual)");
  CsrSpec weak;
  weak.key = "rsa1024";
  CHECK(Evaluate(endpoint, weak).decision == Decision::Deny);
  CHECK(gateway::to_string(Decision::Pend) == "pend");
  CHECK(gateway::to_string(Decision::Issue) == "issue");
  CHECK(gateway::to_string(Decision::Deny) == "deny");
}

TEST_CASE("one policy evaluated from several threads gives the same answers") {
  auto endpoint = Endpoint();
  endpoint.policy.subject = {R"(CN=^[a-z0-9-]+\.corp\.example$)"};
  endpoint.policy.san_patterns = {R"(DNS=\.corp\.example$)"};
  endpoint.policy.disallowed_sans = "drop";
  const EnrollmentPolicy policy(endpoint);
  CsrSpec good_spec;
  good_spec.sans = "DNS:a.corp.example,DNS:b.other";
  CsrSpec bad_spec;
  bad_spec.subject = {{"CN", "evil"}};
  const auto good = MakeCsr(good_spec);
  const auto bad = MakeCsr(bad_spec);
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto g = policy.Evaluate(good);
        const auto b = policy.Evaluate(bad);
        if (g.decision != Decision::Issue || g.cert_template.subject_alt_names->size() != 1 ||
            b.decision != Decision::Deny) {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong == std::vector<int>(4, 0));
}
