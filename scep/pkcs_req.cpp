#include "scep/pkcs_req.h"

#include <cstdio>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "scep/rsa_pkcs10.h"

namespace scep {
namespace {

// Any string type (PrintableString, UTF8String, BMPString, T61String, IA5String) as UTF-8.
std::optional<std::string> Utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  const int len = ASN1_STRING_to_UTF8(&out, s);
  if (len < 0) return std::nullopt;
  OpensslBytes owned(out);
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
}

std::optional<std::string> ChallengePassword(const X509_REQ* req) {
  const int index = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
  if (index < 0) return std::nullopt;
  X509_ATTRIBUTE* attr = X509_REQ_get_attr(req, index);
  ASN1_TYPE* value = attr == nullptr ? nullptr : X509_ATTRIBUTE_get0_type(attr, 0);
  if (value == nullptr || value->type == V_ASN1_BOOLEAN || value->type == V_ASN1_NULL ||
      value->type == V_ASN1_OBJECT || value->type == V_ASN1_SEQUENCE || value->type == V_ASN1_SET) {
    return std::nullopt;
  }
  return Utf8(value->value.asn1_string);
}

std::string IpToString(const ASN1_OCTET_STRING* ip) {
  const unsigned char* b = ASN1_STRING_get0_data(ip);
  const int len = ASN1_STRING_length(ip);
  char buf[64] = {};
  if (len == 4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return buf;
  }
  if (len != 16) return "invalid";
  std::string out;
  for (int i = 0; i < 16; i += 2) {
    std::snprintf(buf, sizeof buf, "%s%x", i == 0 ? "" : ":", (b[i] << 8) | b[i + 1]);
    out += buf;
  }
  return out;
}

void AddGeneralName(const GENERAL_NAME* name, SubjectAltNames& out) {
  switch (name->type) {
    case GEN_DNS: if (auto s = Utf8(name->d.dNSName)) out.dns.push_back(*s); break;
    case GEN_EMAIL: if (auto s = Utf8(name->d.rfc822Name)) out.email.push_back(*s); break;
    case GEN_URI: if (auto s = Utf8(name->d.uniformResourceIdentifier)) out.uri.push_back(*s); break;
    case GEN_IPADD: out.ip.push_back(IpToString(name->d.iPAddress)); break;
    default: break;  // otherName, directoryName ...: copied by the CA as-is, not inspected here
  }
}

// A short name where OpenSSL has one ("clientAuth"), the dotted OID otherwise.
std::string ObjectName(const ASN1_OBJECT* object) {
  const int nid = OBJ_obj2nid(object);
  if (nid != NID_undef) {
    if (const char* name = OBJ_nid2sn(nid); name != nullptr) return name;
  }
  char buf[128] = {};
  const int len = OBJ_obj2txt(buf, sizeof buf, object, 1);
  return len > 0 && static_cast<std::size_t>(len) < sizeof buf ? std::string(buf, static_cast<std::size_t>(len))
                                                               : "invalid";
}

void ReadExtendedKeyUsage(X509_EXTENSION* ext, CertificationRequest& out) {
  UniquePtr<EXTENDED_KEY_USAGE> eku(static_cast<EXTENDED_KEY_USAGE*>(X509V3_EXT_d2i(ext)));
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    out.extended_key_usage.push_back(ObjectName(sk_ASN1_OBJECT_value(eku.get(), i)));
  }
}

void ReadExtensions(const X509_REQ* req, CertificationRequest& out) {
  UniquePtr<STACK_OF(X509_EXTENSION)> exts(X509_REQ_get_extensions(const_cast<X509_REQ*>(req)));
  if (!exts) return;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts.get()); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_subject_alt_name) {
      UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
      for (int j = 0; names && j < sk_GENERAL_NAME_num(names.get()); ++j) {
        AddGeneralName(sk_GENERAL_NAME_value(names.get(), j), out.sans);
      }
    } else if (nid == NID_key_usage) {
      UniquePtr<ASN1_STRING> bits(static_cast<ASN1_BIT_STRING*>(X509V3_EXT_d2i(ext)));
      if (bits) {
        std::uint32_t ku = 0;
        for (int bit = 0; bit < 9; ++bit) {
          if (ASN1_BIT_STRING_get_bit(bits.get(), bit)) ku |= (bit < 8 ? (0x80u >> bit) : 0x8000u);
        }
        out.key_usage = ku;
      }
    } else if (nid == NID_ext_key_usage) {
      ReadExtendedKeyUsage(ext, out);
    }
  }
}

PublicKeyInfo KeyInfo(const EVP_PKEY* key) {
  PublicKeyInfo info;
  const char* type = EVP_PKEY_get0_type_name(key);
  info.type = type != nullptr ? type : "unknown";
  info.bits = EVP_PKEY_get_bits(key);
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) info.curve.assign(group, len);
  return info;
}

}  // namespace

std::string SubjectAltNames::ToString() const {
  std::string out;
  auto add = [&out](const char* prefix, const std::vector<std::string>& values) {
    for (const auto& v : values) out += (out.empty() ? "" : ",") + std::string(prefix) + v;
  };
  add("DNS:", dns);
  add("IP:", ip);
  add("email:", email);
  add("URI:", uri);
  return out;
}

Result<CertificationRequest> ParsePkcsReq(ByteView der) {
  CertificationRequest out;
  const unsigned char* p = der.data();
  out.req = DecodeRsaPkcs10(der);  // the same object as d2i_X509_REQ gives, without OpenSSL 3.0's slow key decode
  if (!out.req) out.req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!out.req) return OpensslError(ErrorCode::BadRequest, "content is not a PKCS#10 request");
  EVP_PKEY* key = X509_REQ_get0_pubkey(out.req.get());
  if (key == nullptr) return OpensslError(ErrorCode::BadRequest, "PKCS#10 request has an unreadable public key");
  const std::optional<bool> rsa_verified = VerifyRsaPkcs10Signature(der, out.req.get());
  if (rsa_verified ? !*rsa_verified : X509_REQ_verify(out.req.get(), key) != 1) {
    return OpensslError(ErrorCode::BadMessageCheck, "PKCS#10 self-signature does not verify");
  }
  out.der.assign(der.begin(), der.end());
  out.subject = NameToString(X509_REQ_get_subject_name(out.req.get()));
  out.challenge_password = ChallengePassword(out.req.get());
  out.key = KeyInfo(key);
  ReadExtensions(out.req.get(), out);
  ERR_clear_error();
  return out;
}

}  // namespace scep
