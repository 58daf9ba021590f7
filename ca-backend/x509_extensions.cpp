#include "ca-backend/x509_extensions.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

#include <openssl/rand.h>
#include <openssl/sha.h>

namespace ca {
namespace {

using scep::ErrorCode;

// Bit positions from RFC 5280 4.2.1.3; the names are the ones OpenSSL's config syntax uses.
constexpr std::array<std::pair<std::string_view, int>, 10> kKeyUsageBits{{
    {"digitalSignature", 0},
    {"nonRepudiation", 1},
    {"contentCommitment", 1},
    {"keyEncipherment", 2},
    {"dataEncipherment", 3},
    {"keyAgreement", 4},
    {"keyCertSign", 5},
    {"cRLSign", 6},
    {"encipherOnly", 7},
    {"decipherOnly", 8},
}};

// The config parser splits values on commas, so a URL with one would silently become two names.
scep::Result<std::string> UriList(std::span<const std::string> urls, std::string_view prefix, const char* what) {
  std::string value;
  for (const std::string& url : urls) {
    if (url.empty() || url.find_first_of(", \t\r\n") != std::string::npos || url.find(':') == std::string::npos) {
      return scep::MakeError(ErrorCode::BadRequest, std::string(what) + " URL \"" + url + "\" is not a usable URI");
    }
    if (!value.empty()) value += ',';
    value.append(prefix).append("URI:").append(url);
  }
  return value;
}

scep::Result<void> AddFromConfigValue(X509* cert, int nid, const std::string& value, const char* what) {
  X509V3_CTX ctx{};
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, cert, nullptr, nullptr, 0);
  scep::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return scep::OpensslError(ErrorCode::BadRequest, std::string("cannot encode ") + what);
  if (X509_add_ext(cert, ext.get(), -1) != 1) {
    return scep::OpensslError(ErrorCode::Internal, std::string("cannot add ") + what);
  }
  return {};
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

bool AllOf(std::string_view text, bool (*allowed)(char)) {
  for (char c : text) {
    if (!allowed(c)) return false;
  }
  return !text.empty();
}

// IA5String without spaces or control characters: what a name in a certificate can sensibly hold.
bool Visible(char c) { return c > ' ' && c < 0x7F; }
bool HostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_' || c == '*';
}
bool IpChar(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':'; }

// Checks the value for its type; returns the GEN_* type or -1.
int CheckAltName(std::string_view prefix, std::string_view value) {
  if (prefix == "DNS:") return AllOf(value, HostChar) ? GEN_DNS : -1;
  if (prefix == "email:") {
    const std::size_t at = value.find('@');
    const bool has_both_parts = at != std::string_view::npos && at > 0 && at + 1 < value.size();
    return AllOf(value, Visible) && has_both_parts ? GEN_EMAIL : -1;
  }
  if (prefix == "URI:") {
    const std::size_t colon = value.find(':');  // a scheme is required: "host/path" alone is not a URI
    return AllOf(value, Visible) && colon != std::string_view::npos && colon > 0 &&
                   std::isalpha(static_cast<unsigned char>(value[0])) != 0
               ? GEN_URI
               : -1;
  }
  // a2i_IPADDRESS checks the rest, but reads IPv4 with sscanf, which would take "10.0.0.1 junk" or "1.2.3.4.5"
  // as a valid prefix: hence the character filter and the dot count.
  if (prefix == "IP:") {
    if (!AllOf(value, IpChar)) return -1;
    const bool v6 = value.find(':') != std::string_view::npos;
    const bool v4_shape = std::count(value.begin(), value.end(), '.') == 3 && value.back() != '.';
    return v6 || v4_shape ? GEN_IPADD : -1;
  }
  return -1;
}

// Fills a GENERAL_NAME the names stack already owns.
scep::Result<void> FillAltName(GENERAL_NAME* gn, int type, std::string_view value, const std::string& entry) {
  scep::UniquePtr<ASN1_STRING> data;
  if (type == GEN_IPADD) {
    data.reset(a2i_IPADDRESS(std::string(value).c_str()));
    if (!data) return scep::OpensslError(ErrorCode::BadRequest, "subjectAltName \"" + entry + "\": not an IP address");
  } else {
    data.reset(ASN1_IA5STRING_new());
    if (!data || ASN1_STRING_set(data.get(), value.data(), static_cast<int>(value.size())) != 1) {
      return scep::OpensslError(ErrorCode::Internal, "cannot encode a subjectAltName");
    }
  }
  GENERAL_NAME_set0_value(gn, type, data.release());  // now owned by the name
  return {};
}

}  // namespace

scep::Result<void> SetRandomSerial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "no randomness for a serial number");
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7F) | 0x40);
  // The certificate's own INTEGER is positive already; overwriting its content avoids a BIGNUM round trip.
  if (ASN1_STRING_set(X509_get_serialNumber(cert), bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot set the serial number");
  }
  return {};
}

scep::Result<scep::UniquePtr<ASN1_INTEGER>> SerialFromHex(std::string_view hex) {
  const std::string text(hex);
  if (text.empty() || text.size() > 80 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return scep::MakeError(ErrorCode::BadRequest, "serial \"" + text + "\" is not hexadecimal");
  }
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, text.c_str()) == 0) return scep::OpensslError(ErrorCode::BadRequest, "bad serial " + text);
  scep::UniquePtr<BIGNUM> bn(raw);
  scep::UniquePtr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return scep::OpensslError(ErrorCode::Internal, "cannot encode serial " + text);
  return serial;
}

scep::Result<void> AddBasicConstraints(X509* cert, bool is_ca) {
  scep::UniquePtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  if (!bc) return scep::OpensslError(ErrorCode::Internal, "cannot allocate basicConstraints");
  bc->ca = is_ca ? 0xFF : 0;
  if (X509_add1_ext_i2d(cert, NID_basic_constraints, bc.get(), 1, X509V3_ADD_REPLACE) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add basicConstraints");
  }
  return {};
}

scep::Result<void> AddKeyUsage(X509* cert, std::span<const std::string> names) {
  if (names.empty()) return {};
  scep::UniquePtr<ASN1_BIT_STRING> bits(ASN1_BIT_STRING_new());
  if (!bits) return scep::OpensslError(ErrorCode::Internal, "cannot allocate keyUsage");
  for (const std::string& name : names) {
    int bit = -1;
    for (const auto& [known, position] : kKeyUsageBits) {
      if (known == name) bit = position;
    }
    if (bit < 0) return scep::MakeError(ErrorCode::BadRequest, "unknown key usage \"" + name + "\"");
    if (ASN1_BIT_STRING_set_bit(bits.get(), bit, 1) != 1) {
      return scep::OpensslError(ErrorCode::Internal, "cannot set a keyUsage bit");
    }
  }
  if (X509_add1_ext_i2d(cert, NID_key_usage, bits.get(), 1, X509V3_ADD_REPLACE) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add keyUsage");
  }
  return {};
}

scep::Result<void> AddExtendedKeyUsage(X509* cert, std::span<const std::string> names) {
  if (names.empty()) return {};
  scep::UniquePtr<EXTENDED_KEY_USAGE> eku(sk_ASN1_OBJECT_new_null());
  if (!eku) return scep::OpensslError(ErrorCode::Internal, "cannot allocate extKeyUsage");
  for (const std::string& name : names) {
    // no_name = 0: short names, long names and dotted OIDs are all accepted.
    scep::UniquePtr<ASN1_OBJECT> oid(OBJ_txt2obj(name.c_str(), 0));
    if (!oid) return scep::OpensslError(ErrorCode::BadRequest, "unknown extended key usage \"" + name + "\"");
    if (sk_ASN1_OBJECT_push(eku.get(), oid.get()) <= 0) {
      return scep::OpensslError(ErrorCode::Internal, "cannot build extKeyUsage");
    }
    static_cast<void>(oid.release());  // now owned by the stack
  }
  if (X509_add1_ext_i2d(cert, NID_ext_key_usage, eku.get(), 0, X509V3_ADD_REPLACE) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add extKeyUsage");
  }
  return {};
}

scep::Result<scep::Bytes> KeyIdOf(const X509* cert) {
  scep::Bytes id(SHA_DIGEST_LENGTH);
  unsigned int len = 0;
  if (X509_pubkey_digest(cert, EVP_sha1(), id.data(), &len) != 1 || len != id.size()) {
    return scep::OpensslError(ErrorCode::Internal, "cannot hash the public key");
  }
  return id;
}

scep::Result<void> AddSubjectKeyId(X509* cert) {
  auto id = KeyIdOf(cert);
  if (!id) return id.error();
  scep::UniquePtr<ASN1_OCTET_STRING> ski(ASN1_OCTET_STRING_new());
  if (!ski || ASN1_OCTET_STRING_set(ski.get(), id->data(), static_cast<int>(id->size())) != 1 ||
      X509_add1_ext_i2d(cert, NID_subject_key_identifier, ski.get(), 0, X509V3_ADD_REPLACE) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add subjectKeyIdentifier");
  }
  return {};
}

scep::Result<scep::UniquePtr<X509_EXTENSION>> MakeAuthorityKeyId(scep::ByteView key_id) {
  scep::UniquePtr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
  scep::UniquePtr<ASN1_OCTET_STRING> id(ASN1_OCTET_STRING_new());
  if (!akid || !id || ASN1_OCTET_STRING_set(id.get(), key_id.data(), static_cast<int>(key_id.size())) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot build authorityKeyIdentifier");
  }
  akid->keyid = id.release();  // now owned by akid
  scep::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid.get()));
  if (!ext) return scep::OpensslError(ErrorCode::Internal, "cannot encode authorityKeyIdentifier");
  return ext;
}

scep::Result<scep::UniquePtr<X509_EXTENSION>> MakeAuthorityKeyId(const X509* issuer) {
  scep::UniquePtr<ASN1_OCTET_STRING> ski(
      static_cast<ASN1_OCTET_STRING*>(X509_get_ext_d2i(issuer, NID_subject_key_identifier, nullptr, nullptr)));
  if (ski) {
    return MakeAuthorityKeyId(scep::ByteView(ASN1_STRING_get0_data(ski.get()),
                                             static_cast<std::size_t>(ASN1_STRING_length(ski.get()))));
  }
  auto id = KeyIdOf(issuer);
  if (!id) return id.error();
  return MakeAuthorityKeyId(*id);
}

scep::Result<void> AddSubjectAltNames(X509* cert, std::span<const std::string> names, bool critical) {
  if (names.empty()) return {};
  static constexpr std::array<std::string_view, 4> kPrefixes{"DNS:", "IP:", "email:", "URI:"};
  // Room for every name up front, so that a push below cannot fail and each GENERAL_NAME is owned by the stack
  // from the moment it exists.
  scep::UniquePtr<GENERAL_NAMES> gens(sk_GENERAL_NAME_new_reserve(nullptr, static_cast<int>(names.size())));
  if (!gens) return scep::OpensslError(ErrorCode::Internal, "cannot allocate subjectAltName");
  for (const std::string& entry : names) {
    int type = -1;
    std::string_view value;
    for (std::string_view prefix : kPrefixes) {
      if (!StartsWithNoCase(entry, prefix)) continue;
      value = std::string_view(entry).substr(prefix.size());
      type = CheckAltName(prefix, value);
      break;
    }
    if (type < 0) {
      return scep::MakeError(ErrorCode::BadRequest, "subjectAltName \"" + entry +
                                                        "\" is not DNS:, IP:, email: or URI: with a valid value");
    }
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (gn == nullptr || sk_GENERAL_NAME_push(gens.get(), gn) <= 0) {
      return scep::OpensslError(ErrorCode::Internal, "cannot allocate a subjectAltName entry");
    }
    if (auto r = FillAltName(gn, type, value, entry); !r) return r;
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, gens.get(), critical ? 1 : 0, X509V3_ADD_REPLACE) != 1) {
    return scep::OpensslError(ErrorCode::Internal, "cannot add subjectAltName");
  }
  return {};
}

scep::Result<void> AddCrlDistributionPoints(X509* cert, std::span<const std::string> urls) {
  if (urls.empty()) return {};
  auto value = UriList(urls, "", "CRL distribution point");
  if (!value) return value.error();
  return AddFromConfigValue(cert, NID_crl_distribution_points, *value, "cRLDistributionPoints");
}

scep::Result<void> AddCaIssuers(X509* cert, std::span<const std::string> urls) {
  if (urls.empty()) return {};
  auto value = UriList(urls, "caIssuers;", "caIssuers");
  if (!value) return value.error();
  return AddFromConfigValue(cert, NID_info_access, *value, "authorityInfoAccess");
}

}  // namespace ca
