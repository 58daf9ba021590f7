#include "ca-backend/distinguished_name.h"

#include <string>
#include <vector>

namespace ca {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on unescaped commas and removes the backslash of "\,"; other escapes are kept as they are.
std::vector<std::string> SplitRdns(std::string_view text) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ',') {
      parts.back() += ',';
      ++i;
    } else if (text[i] == ',') {
      parts.emplace_back();
    } else {
      parts.back() += text[i];
    }
  }
  return parts;
}

scep::Error BadName(std::string_view text, std::string why) {
  return scep::OpensslError(scep::ErrorCode::BadRequest,
                            "distinguished name \"" + std::string(text) + "\": " + std::move(why));
}

}  // namespace

scep::Result<scep::UniquePtr<X509_NAME>> ParseDistinguishedName(std::string_view text) {
  if (Trim(text).empty()) return BadName(text, "is empty");
  const std::vector<std::string> parts = SplitRdns(text);
  scep::UniquePtr<X509_NAME> name(X509_NAME_new());
  if (!name) return scep::OpensslError(scep::ErrorCode::Internal, "cannot allocate a name");
  // Written most specific first, encoded most significant first: walk the parts backwards.
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    const std::string_view part = Trim(*it);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return BadName(text, "\"" + std::string(part) + "\" is not KEY=VALUE");
    const std::string key(Trim(part.substr(0, eq)));
    const std::string value(Trim(part.substr(eq + 1)));
    if (key.empty() || value.empty()) return BadName(text, "\"" + std::string(part) + "\" has an empty key or value");
    if (X509_NAME_add_entry_by_txt(name.get(), key.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return BadName(text, "\"" + std::string(part) + "\" is not a valid attribute");
    }
  }
  return name;
}

scep::Result<scep::UniquePtr<X509_NAME>> MakeRaSubject(const X509_NAME* ca_subject) {
  const int cn_index = X509_NAME_get_index_by_NID(ca_subject, NID_commonName, -1);
  int last_cn = cn_index;
  for (int i = cn_index; i >= 0; i = X509_NAME_get_index_by_NID(ca_subject, NID_commonName, i)) last_cn = i;

  scep::UniquePtr<X509_NAME> ra(X509_NAME_new());
  if (!ra) return scep::OpensslError(scep::ErrorCode::Internal, "cannot allocate a name");
  int previous_set = -1;
  for (int i = 0; i < X509_NAME_entry_count(ca_subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(ca_subject, i);
    // Keep multi-valued RDNs together: -1 appends to the RDN added last, 0 starts a new one.
    const int set = X509_NAME_ENTRY_set(entry);
    const int where = (i > 0 && set == previous_set) ? -1 : 0;
    previous_set = set;
    int ok = 0;
    if (i == last_cn) {
      unsigned char* utf8 = nullptr;
      const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
      if (len < 0) return scep::OpensslError(scep::ErrorCode::Internal, "cannot read the CA's common name");
      scep::OpensslBytes owned(utf8);
      const std::string cn = std::string(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len)) + " SCEP RA";
      ok = X509_NAME_add_entry_by_NID(ra.get(), NID_commonName, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(cn.data()), static_cast<int>(cn.size()),
                                      -1, where);
    } else {
      ok = X509_NAME_add_entry(ra.get(), entry, -1, where);
    }
    if (ok != 1) return scep::OpensslError(scep::ErrorCode::Internal, "cannot build the RA subject");
  }
  if (last_cn < 0) {
    static constexpr std::string_view kCn = "SCEP RA";
    if (X509_NAME_add_entry_by_NID(ra.get(), NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(kCn.data()), static_cast<int>(kCn.size()),
                                   -1, 0) != 1) {
      return scep::OpensslError(scep::ErrorCode::Internal, "cannot build the RA subject");
    }
  }
  return ra;
}

}  // namespace ca
