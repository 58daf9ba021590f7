#include "config/endpoint_checks.h"

#include <array>
#include <map>
#include <string_view>

#include "config/policy_checks.h"
#include "config/value_sets.h"
#include "config/value_shapes.h"

namespace config::detail {
namespace {

constexpr std::array<std::string_view, 4> kChallengeModes{"static", "ndes-one-time", "webhook", "none"};
constexpr std::array<std::string_view, 4> kRaModes{"auto", "none", "single", "split"};
constexpr std::array<std::string_view, 5> kCaKeys{"rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384"};
// Served by the gateway itself beside every endpoint: admin pages and API, CRLs, probes.
constexpr std::array<std::string_view, 5> kReservedPaths{"/certsrv/mscep_admin", "/api", "/crl", "/healthz",
                                                         "/metrics"};

void CheckChallenge(Checker& check, const ChallengeConfig& challenge, const PolicyConfig& policy,
                    const std::string& key) {
  check.OneOf(Key(key, "mode"), challenge.mode, kChallengeModes);
  if (challenge.mode == "webhook" && policy.webhook.url.empty()) {
    check.Fail(Key(key, "mode"), "mode webhook needs policy.webhook.url");
  }
  check.Between(Key(key, "one_time.max_outstanding"), challenge.one_time.max_outstanding, 1, 10000);
  check.Between(Key(key, "one_time.validity_minutes"), challenge.one_time.validity_minutes, 1, 10080);
}

void CheckRa(Checker& check, const RaConfig& ra, const CaConfig& ca, const std::string& key) {
  check.OneOf(Key(key, "mode"), ra.mode, kRaModes);
  if (const std::string problem = ra.subject.empty() ? "" : DnShapeProblem(ra.subject); !problem.empty()) {
    check.Fail(Key(key, "subject"), problem);
  }
  // Without an RA the CA key decrypts the request envelope, which SCEP defines for RSA keys only.
  if (ra.mode == "none" && ca.key.starts_with("ec:")) {
    check.Fail(Key(key, "mode"), "an EC CA cannot decrypt SCEP requests: use ra.mode auto, single or split");
  }
}

void CheckCertificate(Checker& check, const CertificateConfig& certificate, const CaConfig& ca,
                      const std::string& key) {
  const std::string validity = Key(key, "validity_days");
  check.AtLeast(validity, certificate.validity_days, 1);
  if (ca.validity_days >= 1 && certificate.validity_days > ca.validity_days) {
    check.Fail(validity, "must not exceed ca.validity_days (" + std::to_string(ca.validity_days) + "), got " +
                             std::to_string(certificate.validity_days));
  }
  check.EachOneOf(Key(key, "key_usage"), certificate.key_usage, kKeyUsages);
  CheckExtendedKeyUsages(check, certificate.extended_key_usage, Key(key, "extended_key_usage"));
  check.EachUrl(Key(key, "crl_distribution_points"), certificate.crl_distribution_points);
  check.EachUrl(Key(key, "ca_issuers_urls"), certificate.ca_issuers_urls);
  CheckSubjectPatterns(check, certificate.subject, Key(key, "subject"));
  if (!certificate.approval.empty()) check.OneOf(Key(key, "approval"), certificate.approval, kApprovals);
}

bool IsEndpointName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "" when `path` is a usable endpoint prefix, else what is wrong with it.
std::string PathProblem(std::string_view path) {
  if (!path.starts_with('/')) return "expected a path starting with '/', got '" + std::string(path) + "'";
  if (path.size() > 1 && path.ends_with('/')) return "must not end with '/', got '" + std::string(path) + "'";
  for (char c : path) {
    if (c == '?' || c == '#' || static_cast<unsigned char>(c) <= ' ') {
      return "must not hold '?', '#', spaces or control characters, got '" + std::string(path) + "'";
    }
  }
  for (std::string_view reserved : kReservedPaths) {
    if (path == reserved || (path.starts_with(reserved) && path[reserved.size()] == '/')) {
      return "'" + std::string(path) + "' is under " + std::string(reserved) +
             ", which the gateway keeps for its admin pages, CRLs and probes";
    }
  }
  return "";
}

// An error at `key` when `value` was already used by an earlier endpoint.
void CheckUnique(Checker& check, std::map<std::string, std::size_t>& used, const std::string& value,
                 std::size_t index, std::string_view field) {
  const auto [first, inserted] = used.emplace(value, index);
  if (inserted) return;
  check.Fail(Key(Item("endpoints", index), field), "duplicate " + std::string(field) + " '" + value +
                                                       "' (also endpoints[" + std::to_string(first->second) + "])");
}

}  // namespace

void CheckCa(Checker& check, const CaConfig& ca, const std::string& key) {
  if (const std::string problem = DnShapeProblem(ca.subject); !problem.empty()) {
    check.Fail(Key(key, "subject"), problem);
  }
  check.OneOf(Key(key, "key"), ca.key, kCaKeys);
  check.AtLeast(Key(key, "validity_days"), ca.validity_days, 1);
}

void CheckEndpointKeys(Checker& check, const EndpointConfig& endpoint, const CaConfig& ca, const std::string& prefix) {
  CheckChallenge(check, endpoint.challenge, endpoint.policy, Key(prefix, "challenge"));
  CheckRa(check, endpoint.ra, ca, Key(prefix, "ra"));
  CheckCertificate(check, endpoint.certificate, ca, Key(prefix, "certificate"));
  if (endpoint.templates.signature) {
    CheckCertificate(check, *endpoint.templates.signature, ca, Key(prefix, "templates.signature"));
  }
  if (endpoint.templates.encryption) {
    CheckCertificate(check, *endpoint.templates.encryption, ca, Key(prefix, "templates.encryption"));
  }
  CheckPolicy(check, endpoint.policy, Key(prefix, "policy"));
}

void CheckEndpointNamesAndPaths(Checker& check, const std::vector<EndpointConfig>& endpoints) {
  std::map<std::string, std::size_t> names;
  std::map<std::string, std::size_t> paths;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const EndpointConfig& endpoint = endpoints[i];
    const std::string key = Item("endpoints", i);
    if (!IsEndpointName(endpoint.name)) {
      check.Fail(Key(key, "name"), endpoint.name.empty()
                                       ? std::string("every endpoint needs a name ([A-Za-z0-9._-]+)")
                                       : "expected letters, digits, '.', '_' or '-', got '" + endpoint.name + "'");
    } else {
      CheckUnique(check, names, endpoint.name, i, "name");
    }
    if (const std::string problem = PathProblem(endpoint.path); !problem.empty()) {
      check.Fail(Key(key, "path"), problem);
    } else {
      CheckUnique(check, paths, endpoint.path, i, "path");
    }
  }
}

}  // namespace config::detail
