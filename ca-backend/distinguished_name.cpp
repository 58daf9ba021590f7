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

// Adds one attribute; OpenSSL's string table picks the ASN.1 type (UTF8String unless X.520 fixes another).
int AddUtf8(X509_NAME* name, const ASN1_OBJECT* type, std::string_view value, int set) {
  return X509_NAME_add_entry_by_OBJ(name, type, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, set);
}

// The overrides of one attribute type, in the order policy gave them.
struct OverrideGroup {
  scep::UniquePtr<ASN1_OBJECT> type;
  std::string type_text;
  std::vector<std::string_view> values;
  bool placed = false;
};

OverrideGroup* FindGroup(std::vector<OverrideGroup>& groups, const ASN1_OBJECT* type) {
  for (OverrideGroup& group : groups) {
    if (OBJ_cmp(group.type.get(), type) == 0) return &group;
  }
  return nullptr;
}

scep::Result<std::vector<OverrideGroup>> GroupOverrides(
    std::span<const std::pair<std::string, std::string>> overrides) {
  std::vector<OverrideGroup> groups;
  for (const auto& [type_text, value] : overrides) {
    // no_name = 0: short names (CN), long names (commonName) and dotted OIDs.
    scep::UniquePtr<ASN1_OBJECT> type(OBJ_txt2obj(type_text.c_str(), 0));
    if (!type) {
      return scep::OpensslError(scep::ErrorCode::BadRequest, "unknown subject attribute \"" + type_text + "\"");
    }
    if (value.empty()) {
      return scep::MakeError(scep::ErrorCode::BadRequest, "empty value for subject attribute " + type_text);
    }
    OverrideGroup* group = FindGroup(groups, type.get());
    if (group == nullptr) group = &groups.emplace_back(OverrideGroup{std::move(type), type_text, {}, false});
    group->values.push_back(value);
  }
  return groups;
}

// The group's first value goes in as `set` says (joining a multi-valued RDN it replaces), the others as new RDNs.
scep::Result<void> PlaceGroup(X509_NAME* out, OverrideGroup& group, int set) {
  for (std::string_view value : group.values) {
    if (AddUtf8(out, group.type.get(), value, set) != 1) {
      return scep::OpensslError(scep::ErrorCode::BadRequest,
                                "\"" + std::string(value) + "\" is not a valid " + group.type_text);
    }
    set = 0;
  }
  group.placed = true;
  return {};
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

scep::Result<scep::UniquePtr<X509_NAME>> MakeRaSubject(const X509_NAME* ca_subject, std::string_view label) {
  int last_cn = -1;
  for (int i = X509_NAME_get_index_by_NID(ca_subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(ca_subject, NID_commonName, i)) {
    last_cn = i;
  }
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
      std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
      cn.append(" ").append(label);
      ok = AddUtf8(ra.get(), OBJ_nid2obj(NID_commonName), cn, where);
    } else {
      ok = X509_NAME_add_entry(ra.get(), entry, -1, where);
    }
    if (ok != 1) return scep::OpensslError(scep::ErrorCode::Internal, "cannot build the RA subject");
  }
  if (last_cn < 0 && AddUtf8(ra.get(), OBJ_nid2obj(NID_commonName), "SCEP " + std::string(label), 0) != 1) {
    return scep::OpensslError(scep::ErrorCode::Internal, "cannot build the RA subject");
  }
  return ra;
}

scep::Result<scep::UniquePtr<X509_NAME>> OverrideSubject(
    const X509_NAME* subject, std::span<const std::pair<std::string, std::string>> overrides) {
  auto groups = GroupOverrides(overrides);
  if (!groups) return groups.error();
  scep::UniquePtr<X509_NAME> out(X509_NAME_new());
  if (!out) return scep::OpensslError(scep::ErrorCode::Internal, "cannot allocate a name");
  int last_set = -2;  // the input RDN the output's last RDN came from; -2: none, or a fresh RDN of our own
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const int set = X509_NAME_ENTRY_set(entry);
    const int where = set == last_set ? -1 : 0;
    OverrideGroup* group = FindGroup(*groups, X509_NAME_ENTRY_get_object(entry));
    if (group == nullptr) {
      if (X509_NAME_add_entry(out.get(), entry, -1, where) != 1) {
        return scep::OpensslError(scep::ErrorCode::Internal, "cannot copy the subject");
      }
      last_set = set;
      continue;
    }
    if (group->placed) continue;  // a later RDN of an overridden type: dropped
    if (auto r = PlaceGroup(out.get(), *group, where); !r) return r.error();
    // Extra values were added as RDNs of their own; the rest of a multi-valued input RDN must not join them.
    last_set = group->values.size() == 1 ? set : -2;
  }
  for (OverrideGroup& group : *groups) {
    if (group.placed) continue;
    if (auto r = PlaceGroup(out.get(), group, 0); !r) return r.error();
  }
  return out;
}

}  // namespace ca
