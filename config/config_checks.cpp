#include "config/config_checks.h"

#include <array>
#include <cctype>
#include <span>
#include <string_view>
#include <type_traits>

#include "config/did_you_mean.h"

namespace config {
namespace detail {
namespace {

constexpr std::array<std::string_view, 5> kLogLevels{"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 2> kLogFormats{"text", "json"};
constexpr std::array<std::string_view, 2> kChallengeModes{"static", "none"};
constexpr std::array<std::string_view, 5> kCaKeys{"rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384"};
constexpr std::array<std::string_view, 5> kKeyUsages{"digitalSignature", "nonRepudiation", "keyEncipherment",
                                                     "dataEncipherment", "keyAgreement"};
constexpr std::array<std::string_view, 7> kExtendedKeyUsages{"serverAuth",      "clientAuth",   "codeSigning",
                                                             "emailProtection", "timeStamping", "OCSPSigning",
                                                             "ipsecIKE"};
constexpr std::string_view kDnExample = "expected a distinguished name like 'CN=SCEP Gateway CA,O=Example'";

std::string Join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += "|";
    out += word;
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  return text;
}

bool Contains(std::span<const std::string_view> words, std::string_view word) {
  for (std::string_view candidate : words) {
    if (candidate == word) return true;
  }
  return false;
}

// A dotted OID such as 1.3.6.1.5.5.7.3.2: at least two arcs, the first 0, 1 or 2.
bool IsDottedOid(std::string_view text) {
  if (text.size() < 3 || text[0] < '0' || text[0] > '2' || text[1] != '.') return false;
  bool arc_has_digit = true;
  for (char c : text) {
    if (c == '.') {
      if (!arc_has_digit) return false;
      arc_has_digit = false;
    } else if (c >= '0' && c <= '9') {
      arc_has_digit = true;
    } else {
      return false;
    }
  }
  return arc_has_digit;
}

bool IsHttpUrl(std::string_view text) {
  std::string lower;
  for (char c : text.substr(0, 8)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t scheme = 0;
  if (lower.starts_with("http://")) scheme = 7;
  if (lower.starts_with("https://")) scheme = 8;
  if (scheme == 0 || text.size() == scheme) return false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || std::iscntrl(static_cast<unsigned char>(c)) != 0) {
      return false;
    }
  }
  return true;
}

// "" when `dn` has the shape KEY=VALUE{,KEY=VALUE} (a backslash escapes a comma), else what is wrong with it.
std::string DnShapeProblem(std::string_view dn) {
  if (Trim(dn).empty()) return std::string(kDnExample) + ", got an empty value";
  std::size_t start = 0;
  int part = 1;
  for (std::size_t i = 0; i <= dn.size(); ++i) {
    if (i < dn.size() && dn[i] == '\\') {
      ++i;  // skip the escaped character
      continue;
    }
    if (i < dn.size() && dn[i] != ',') continue;
    const std::string_view rdn = Trim(dn.substr(start, i - start));
    const std::size_t equals = rdn.find('=');
    const std::string_view type = equals == std::string_view::npos ? "" : Trim(rdn.substr(0, equals));
    const std::string_view value = equals == std::string_view::npos ? "" : Trim(rdn.substr(equals + 1));
    const bool type_ok = !type.empty() && type.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                 "0123456789.") == std::string_view::npos;
    if (!type_ok || value.empty()) {
      return std::string(kDnExample) + "; part " + std::to_string(part) + " '" + std::string(rdn) +
             "' is not KEY=VALUE";
    }
    start = i + 1;
    ++part;
  }
  return "";
}

class Checker {
 public:
  Checker(const std::string& file_name, const KeyLines& lines) : file_name_(file_name), lines_(lines) {}

  void Fail(const std::string& key, std::string message) {
    const auto found = lines_.find(key);
    errors_.push_back(ConfigError{file_name_, found == lines_.end() ? 0 : found->second, key, std::move(message)});
  }

  // Templates, so that a std::size_t is never squeezed into a signed type on its way to the comparison.
  template <typename T>
  void AtLeast(const std::string& key, T value, std::type_identity_t<T> min) {
    if (value < min) Fail(key, "must be at least " + std::to_string(min) + ", got " + std::to_string(value));
  }

  template <typename T>
  void Between(const std::string& key, T value, std::type_identity_t<T> min, std::type_identity_t<T> max) {
    if (value < min || value > max) {
      Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                    std::to_string(value));
    }
  }

  void OneOf(const std::string& key, const std::string& value, std::span<const std::string_view> allowed) {
    if (Contains(allowed, value)) return;
    Fail(key, "expected one of " + Join(allowed) + ", got '" + value + "'" + DidYouMean(value, allowed));
  }

  std::vector<ConfigError> TakeErrors() { return std::move(errors_); }

 private:
  const std::string& file_name_;
  const KeyLines& lines_;
  std::vector<ConfigError> errors_;
};

void CheckListeners(Checker& check, const GatewayConfig& config) {
  const TlsConfig& tls = config.tls;
  if (!tls.listen.empty() && !ParseHostPort(tls.listen)) {
    check.Fail("tls.listen", "expected HOST:PORT such as 0.0.0.0:8443, got '" + tls.listen + "'");
  }
  if (!tls.listen.empty() && (tls.cert_file.empty() || tls.key_file.empty())) {
    check.Fail("tls.listen", "an HTTPS listener needs tls.cert_file and tls.key_file");
  }
  if (tls.listen.empty() && (!tls.cert_file.empty() || !tls.key_file.empty())) {
    check.Fail("tls.cert_file", "tls.cert_file and tls.key_file need tls.listen");
  }
  if (!config.metrics.listen.empty() && !ParseHostPort(config.metrics.listen)) {
    check.Fail("metrics.listen", "expected HOST:PORT such as 127.0.0.1:9100, got '" + config.metrics.listen + "'");
  }
}

void CheckTopLevel(Checker& check, const GatewayConfig& config) {
  // An empty `listen` turns plain HTTP off, which only makes sense with an HTTPS listener.
  if (config.listen.empty() && config.tls.listen.empty()) {
    check.Fail("listen", "must not be empty unless tls.listen is set");
  } else if (!config.listen.empty() && !ParseHostPort(config.listen)) {
    check.Fail("listen", "expected HOST:PORT such as 0.0.0.0:8080 or [::1]:8080, got '" + config.listen + "'");
  }
  if (config.data_dir.empty()) check.Fail("data_dir", "must not be empty");
  check.OneOf("log.level", config.log.level, kLogLevels);
  check.OneOf("log.format", config.log.format, kLogFormats);
  check.AtLeast("http.max_body_bytes", config.http.max_body_bytes, 1024);
  check.AtLeast("http.max_url_bytes", config.http.max_url_bytes, 8192);
  check.Between("http.read_timeout_seconds", config.http.read_timeout_seconds, 1, 3600);
  check.Between("http.worker_threads", config.http.worker_threads, 1, 1024);
  check.Between("http.io_threads", config.http.io_threads, 1, 64);
  check.OneOf("challenge.mode", config.challenge.mode, kChallengeModes);
}

void CheckCa(Checker& check, const CaConfig& ca) {
  const std::string problem = DnShapeProblem(ca.subject);
  if (!problem.empty()) check.Fail("ca.subject", problem);
  check.OneOf("ca.key", ca.key, kCaKeys);
  check.AtLeast("ca.validity_days", ca.validity_days, 1);
}

void CheckUrls(Checker& check, const std::string& key, const std::vector<std::string>& urls) {
  for (std::size_t i = 0; i < urls.size(); ++i) {
    if (IsHttpUrl(urls[i])) continue;
    check.Fail(key + "[" + std::to_string(i) + "]", "expected an http:// or https:// URL, got '" + urls[i] + "'");
  }
}

void CheckCertificate(Checker& check, const CertificateConfig& certificate, const CaConfig& ca) {
  check.AtLeast("certificate.validity_days", certificate.validity_days, 1);
  if (ca.validity_days >= 1 && certificate.validity_days > ca.validity_days) {
    check.Fail("certificate.validity_days", "must not exceed ca.validity_days (" + std::to_string(ca.validity_days) +
                                                "), got " + std::to_string(certificate.validity_days));
  }
  for (std::size_t i = 0; i < certificate.key_usage.size(); ++i) {
    check.OneOf("certificate.key_usage[" + std::to_string(i) + "]", certificate.key_usage[i], kKeyUsages);
  }
  for (std::size_t i = 0; i < certificate.extended_key_usage.size(); ++i) {
    const std::string& usage = certificate.extended_key_usage[i];
    if (Contains(kExtendedKeyUsages, usage) || IsDottedOid(usage)) continue;
    check.Fail("certificate.extended_key_usage[" + std::to_string(i) + "]",
               "expected one of " + Join(kExtendedKeyUsages) + " or a dotted OID such as 1.3.6.1.5.5.7.3.2, got '" +
                   usage + "'" + DidYouMean(usage, kExtendedKeyUsages));
  }
  CheckUrls(check, "certificate.crl_distribution_points", certificate.crl_distribution_points);
  CheckUrls(check, "certificate.ca_issuers_urls", certificate.ca_issuers_urls);
}

}  // namespace

std::vector<ConfigError> CheckConfig(const GatewayConfig& config, const std::string& file_name,
                                     const KeyLines& lines) {
  Checker check(file_name, lines);
  CheckTopLevel(check, config);
  CheckListeners(check, config);
  CheckCa(check, config.ca);
  CheckCertificate(check, config.certificate, config.ca);
  return check.TakeErrors();
}

}  // namespace detail

std::vector<ConfigError> ValidateConfig(const GatewayConfig& config, const std::string& file_name) {
  return detail::CheckConfig(config, file_name, detail::KeyLines{});
}

}  // namespace config
