#include "gateway/enrollment_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "scep/ossl_ptr.h"

namespace gateway {
namespace {

// RFC 5280 keyUsage names with the X509v3_KU_* bit pkcs_req.cpp reports them as.
constexpr std::array<std::pair<std::string_view, std::uint32_t>, 9> kKeyUsageBits{{
    {"digitalSignature", X509v3_KU_DIGITAL_SIGNATURE},
    {"nonRepudiation", X509v3_KU_NON_REPUDIATION},
    {"keyEncipherment", X509v3_KU_KEY_ENCIPHERMENT},
    {"dataEncipherment", X509v3_KU_DATA_ENCIPHERMENT},
    {"keyAgreement", X509v3_KU_KEY_AGREEMENT},
    {"keyCertSign", X509v3_KU_KEY_CERT_SIGN},
    {"cRLSign", X509v3_KU_CRL_SIGN},
    {"encipherOnly", X509v3_KU_ENCIPHER_ONLY},
    {"decipherOnly", X509v3_KU_DECIPHER_ONLY},
}};
constexpr std::uint32_t kSignatureBits = X509v3_KU_DIGITAL_SIGNATURE | X509v3_KU_NON_REPUDIATION;
constexpr std::uint32_t kEncryptionBits =
    X509v3_KU_KEY_ENCIPHERMENT | X509v3_KU_DATA_ENCIPHERMENT | X509v3_KU_KEY_AGREEMENT;

// "CN=^x$" -> {"CN", "^x$"}: the key ends at the first '=', the rest (which may hold '=') is the value.
std::pair<std::string, std::string> SplitAssignment(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) return {text, ""};
  return {text.substr(0, eq), text.substr(eq + 1)};
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// Names and OIDs compared by their dotted form, so that "clientAuth" in the config matches 1.3.6.1.5.5.7.3.2.
std::string DottedOid(const std::string& name_or_oid) {
  scep::UniquePtr<ASN1_OBJECT> object(OBJ_txt2obj(name_or_oid.c_str(), 0));
  ERR_clear_error();
  if (!object) return name_or_oid;
  char buf[128] = {};
  const int len = OBJ_obj2txt(buf, sizeof buf, object.get(), 1);
  if (len <= 0 || static_cast<std::size_t>(len) >= sizeof buf) return name_or_oid;
  return std::string(buf, static_cast<std::size_t>(len));
}

// Values come from the CSR: a pathological one can make std::regex give up (error_complexity / error_stack),
// which counts as "does not match" rather than escaping Evaluate as an exception.
bool Matches(const std::string& value, const std::regex& regex) {
  try {
    return std::regex_search(value, regex);
  } catch (const std::regex_error&) {
    return false;
  }
}

std::optional<std::string> Utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  const int len = ASN1_STRING_to_UTF8(&out, s);
  if (len < 0) return std::nullopt;
  scep::OpensslBytes owned(out);
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
}

ca::CertTemplate MakeTemplate(const config::CertificateConfig& c) {
  ca::CertTemplate t;
  t.validity_days = c.validity_days;
  t.key_usage = c.key_usage;
  t.extended_key_usage = c.extended_key_usage;
  t.crl_distribution_points = c.crl_distribution_points;
  t.ca_issuers_urls = c.ca_issuers_urls;
  return t;
}

struct SubjectRule {
  std::string attribute;  // as the operator wrote it ("CN")
  scep::UniquePtr<ASN1_OBJECT> object;
  std::string pattern;
  std::regex regex;
};

struct SanRule {
  std::string type;  // DNS|IP|email|URI
  std::regex regex;
};

struct KeyRule {
  std::string type;   // "RSA" or "EC"
  int min_bits = 0;   // RSA
  std::string curve;  // EC: OpenSSL's group name
};

std::optional<KeyRule> ParseKeyRule(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string kind = text.substr(0, colon);
  const std::string arg = text.substr(colon + 1);
  if (kind == "rsa") return KeyRule{"RSA", std::atoi(arg.c_str()), ""};
  if (kind != "ec") return std::nullopt;
  if (arg == "p256") return KeyRule{"EC", 0, "prime256v1"};
  if (arg == "p384") return KeyRule{"EC", 0, "secp384r1"};
  if (arg == "p521") return KeyRule{"EC", 0, "secp521r1"};
  return std::nullopt;
}

// The CSR's SANs as {type, value} in the order SubjectAltNames::ToString() prints them.
std::vector<std::pair<std::string, std::string>> SanList(const scep::SubjectAltNames& sans) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : sans.dns) out.emplace_back("DNS", v);
  for (const auto& v : sans.ip) out.emplace_back("IP", v);
  for (const auto& v : sans.email) out.emplace_back("email", v);
  for (const auto& v : sans.uri) out.emplace_back("URI", v);
  return out;
}

std::string Article(std::string_view san_type) {
  return san_type == "IP" || EqualsNoCase(san_type, "email") ? "an" : "a";
}

}  // namespace

std::vector<std::string> KeyUsageNames(std::uint32_t bits) {
  std::vector<std::string> names;
  for (const auto& [name, bit] : kKeyUsageBits) {
    if ((bits & bit) != 0) names.emplace_back(name);
  }
  return names;
}

std::string to_string(Decision decision) {
  switch (decision) {
    case Decision::Issue: return "issue";
    case Decision::Deny: return "deny";
    case Decision::Pend: return "pend";
  }
  return "unknown(" + std::to_string(static_cast<int>(decision)) + ")";
}

namespace {

// A certificate template and the subject rules of its own (NDES templates carry subject requirements too).
struct TemplateRules {
  std::string kind;  // "signature", "encryption", "general"
  ca::CertTemplate tmpl;
  std::vector<SubjectRule> subject;
  std::string approval;  // "auto", "manual", or "" for the policy's
};

std::vector<SubjectRule> MakeSubjectRules(const std::vector<std::string>& items) {
  std::vector<SubjectRule> rules;
  for (const auto& text : items) {
    auto [attribute, pattern] = SplitAssignment(text);
    scep::UniquePtr<ASN1_OBJECT> object(OBJ_txt2obj(attribute.c_str(), 0));
    ERR_clear_error();
    rules.push_back(SubjectRule{attribute, std::move(object), pattern, std::regex(pattern)});
  }
  return rules;
}

TemplateRules MakeTemplateRules(std::string kind, const config::CertificateConfig& c) {
  return TemplateRules{std::move(kind), MakeTemplate(c), MakeSubjectRules(c.subject), c.approval};
}

// The first rule the subject breaks; `source` names where the rules come from ("policy.subject").
std::optional<std::string> CheckSubjectRules(const X509_REQ* req, const std::vector<SubjectRule>& rules,
                                             const std::string& source) {
  const X509_NAME* name = X509_REQ_get_subject_name(req);
  for (const auto& rule : rules) {
    int index = rule.object ? X509_NAME_get_index_by_OBJ(name, rule.object.get(), -1) : -1;
    if (index < 0) return "policy: subject has no " + rule.attribute + " (required by " + source + ")";
    for (; index >= 0; index = X509_NAME_get_index_by_OBJ(name, rule.object.get(), index)) {
      const auto value = Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
      if (!value || !Matches(*value, rule.regex)) {
        return "policy: subject " + rule.attribute + " '" + value.value_or("?") + "' does not match " + rule.pattern +
               (source == "policy.subject" ? "" : " (" + source + ")");
      }
    }
  }
  return std::nullopt;
}

}  // namespace

struct EnrollmentPolicy::Rules {
  TemplateRules general;
  std::optional<TemplateRules> signature;
  std::optional<TemplateRules> encryption;
  std::vector<SubjectRule> subject;
  std::vector<std::pair<std::string, std::string>> force_subject;
  std::vector<std::string> required_san_types;
  std::vector<SanRule> san_patterns;
  bool drop_disallowed_sans = false;
  std::vector<KeyRule> key_types;
  std::optional<std::vector<std::string>> allowed_key_usages;  // nullopt = any
  std::optional<std::vector<std::string>> allowed_ekus;        // dotted OIDs; nullopt = any
  int max_validity_days = 0;
  bool manual_approval = false;

  // Each returns the Deny reason of the first rule the request breaks.
  std::optional<std::string> CheckKey(const scep::PublicKeyInfo& key) const;
  std::optional<std::string> CheckSans(const scep::SubjectAltNames& sans, ca::CertTemplate& tmpl) const;
  std::optional<std::string> CheckUsages(const scep::CertificationRequest& csr) const;
  const TemplateRules& ChooseTemplate(std::optional<std::uint32_t> key_usage) const;
};

std::optional<std::string> EnrollmentPolicy::Rules::CheckKey(const scep::PublicKeyInfo& key) const {
  if (key_types.empty()) return std::nullopt;
  std::optional<int> rsa_minimum;
  for (const auto& rule : key_types) {
    if (rule.type != key.type) continue;
    if (rule.type == "RSA") {
      if (key.bits >= rule.min_bits) return std::nullopt;
      rsa_minimum = std::min(rsa_minimum.value_or(rule.min_bits), rule.min_bits);
    } else if (rule.curve == key.curve) {
      return std::nullopt;
    }
  }
  if (rsa_minimum) {
    return "policy: RSA key of " + std::to_string(key.bits) + " bits is below the minimum " +
           std::to_string(*rsa_minimum);
  }
  if (key.type == "EC") return "policy: EC curve " + key.curve + " not allowed (key_types)";
  return "policy: " + key.type + " keys not allowed (key_types)";
}

std::optional<std::string> EnrollmentPolicy::Rules::CheckSans(const scep::SubjectAltNames& sans,
                                                              ca::CertTemplate& tmpl) const {
  std::vector<std::pair<std::string, std::string>> kept;
  for (auto& [type, value] : SanList(sans)) {
    const bool allowed = san_patterns.empty() || std::any_of(san_patterns.begin(), san_patterns.end(), [&](auto& r) {
                           return EqualsNoCase(r.type, type) && Matches(value, r.regex);
                         });
    if (allowed) {
      kept.emplace_back(type, value);
    } else if (!drop_disallowed_sans) {
      return "policy: SAN " + type + ":" + value + " not allowed by policy.san_patterns";
    }
  }
  // With patterns in drop mode the policy decides the whole extension, so names it cannot inspect
  // (otherName, directoryName) are not copied through unchecked either.
  if (!san_patterns.empty() && drop_disallowed_sans) {
    std::vector<std::string> issued;
    for (const auto& [type, value] : kept) issued.push_back(type + ":" + value);
    tmpl.subject_alt_names = std::move(issued);
  }
  for (const auto& required : required_san_types) {
    const bool present = std::any_of(kept.begin(), kept.end(), [&](auto& s) { return EqualsNoCase(s.first, required); });
    if (!present) return "policy: " + Article(required) + " " + required + " SAN is required";
  }
  return std::nullopt;
}

std::optional<std::string> EnrollmentPolicy::Rules::CheckUsages(const scep::CertificationRequest& csr) const {
  if (allowed_key_usages && csr.key_usage) {
    for (const auto& [name, bit] : kKeyUsageBits) {
      if ((*csr.key_usage & bit) == 0) continue;
      if (std::find(allowed_key_usages->begin(), allowed_key_usages->end(), name) == allowed_key_usages->end()) {
        return "policy: requested keyUsage " + std::string(name) + " not allowed";
      }
    }
  }
  if (allowed_ekus) {
    for (const auto& usage : csr.extended_key_usage) {
      if (std::find(allowed_ekus->begin(), allowed_ekus->end(), DottedOid(usage)) == allowed_ekus->end()) {
        return "policy: requested extendedKeyUsage " + usage + " not allowed";
      }
    }
  }
  return std::nullopt;
}

// NDES's choice: signature-only requests get the signature template, encipherment-only ones the encryption
// template, anything else (both, none, no keyUsage at all) the general-purpose one.
const TemplateRules& EnrollmentPolicy::Rules::ChooseTemplate(std::optional<std::uint32_t> key_usage) const {
  const std::uint32_t bits = key_usage.value_or(0);
  const bool sign = (bits & kSignatureBits) != 0;
  const bool encrypt = (bits & kEncryptionBits) != 0;
  if (sign && !encrypt && signature) return *signature;
  if (encrypt && !sign && encryption) return *encryption;
  return general;
}

EnrollmentPolicy::EnrollmentPolicy(const config::EndpointConfig& endpoint) : rules_(std::make_unique<Rules>()) {
  Rules& r = *rules_;
  const config::PolicyConfig& p = endpoint.policy;
  r.general = MakeTemplateRules("general", endpoint.certificate);
  if (endpoint.templates.signature) r.signature = MakeTemplateRules("signature", *endpoint.templates.signature);
  if (endpoint.templates.encryption) r.encryption = MakeTemplateRules("encryption", *endpoint.templates.encryption);
  r.subject = MakeSubjectRules(p.subject);
  for (const auto& text : p.force_subject) r.force_subject.push_back(SplitAssignment(text));
  r.required_san_types = p.required_san_types;
  for (const auto& text : p.san_patterns) {
    auto [type, pattern] = SplitAssignment(text);
    r.san_patterns.push_back(SanRule{type, std::regex(pattern)});
  }
  r.drop_disallowed_sans = p.disallowed_sans == "drop";
  for (const auto& text : p.key_types) {
    if (auto rule = ParseKeyRule(text)) r.key_types.push_back(*rule);
  }
  if (!p.allowed_key_usages.empty()) r.allowed_key_usages = p.allowed_key_usages;
  if (!p.allowed_extended_key_usages.empty()) {
    r.allowed_ekus.emplace();
    for (const auto& usage : p.allowed_extended_key_usages) r.allowed_ekus->push_back(DottedOid(usage));
  }
  r.max_validity_days = p.max_validity_days;
  r.manual_approval = p.approval == "manual";
}

EnrollmentPolicy::EnrollmentPolicy(EnrollmentPolicy&&) noexcept = default;
EnrollmentPolicy::~EnrollmentPolicy() = default;

PolicyDecision EnrollmentPolicy::Evaluate(const scep::CertificationRequest& csr) const {
  const Rules& r = *rules_;
  PolicyDecision out;
  const TemplateRules& chosen = r.ChooseTemplate(csr.key_usage);
  out.template_kind = chosen.kind;
  out.cert_template = chosen.tmpl;
  out.cert_template.force_subject = r.force_subject;
  if (r.max_validity_days > 0) {
    out.cert_template.validity_days = std::min(out.cert_template.validity_days, r.max_validity_days);
  }
  std::optional<std::string> refusal;
  if (csr.req == nullptr) {
    refusal = "policy: no certification request";
  } else {
    refusal = CheckSubjectRules(csr.req.get(), r.subject, "policy.subject");
    if (!refusal) refusal = CheckSubjectRules(csr.req.get(), chosen.subject, "the " + chosen.kind + " template");
  }
  if (!refusal) refusal = r.CheckKey(csr.key);
  if (!refusal) refusal = r.CheckSans(csr.sans, out.cert_template);
  if (!refusal) refusal = r.CheckUsages(csr);
  if (refusal) {
    out.decision = Decision::Deny;
    out.reason = std::move(*refusal);
  } else if (chosen.approval == "manual") {
    out.decision = Decision::Pend;
    out.reason = "manual approval required (the " + chosen.kind + " template's approval: manual)";
  } else if (r.manual_approval && chosen.approval != "auto") {
    out.decision = Decision::Pend;
    out.reason = "manual approval required (policy.approval: manual)";
  }
  return out;
}

}  // namespace gateway
