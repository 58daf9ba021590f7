// Converting certificates, keys, CRLs and requests between OpenSSL objects and bytes (DER or PEM).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scep/ossl_ptr.h"
#include "scep/result.h"

namespace scep {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string AsString(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Any OpenSSL object through its i2d function, e.g. EncodeDer(name, i2d_X509_NAME).
template <typename T>
[[nodiscard]] Result<Bytes> EncodeDer(const T* obj, int (*i2d)(const T*, unsigned char**)) {
  unsigned char* out = nullptr;
  const int len = i2d(obj, &out);
  if (len <= 0) return OpensslError(ErrorCode::Internal, "cannot DER-encode an object");
  OpensslBytes owned(out);
  return Bytes(out, out + len);
}

[[nodiscard]] Result<Bytes> CertToDer(const X509* cert);
[[nodiscard]] Result<Bytes> CrlToDer(const X509_CRL* crl);
[[nodiscard]] Result<Bytes> ReqToDer(const X509_REQ* req);
[[nodiscard]] Result<Bytes> CmsToDer(const CMS_ContentInfo* cms);
[[nodiscard]] Result<UniquePtr<X509>> CertFromDer(ByteView der);
[[nodiscard]] Result<UniquePtr<X509_CRL>> CrlFromDer(ByteView der);

[[nodiscard]] Result<std::string> CertToPem(const X509* cert);
[[nodiscard]] Result<std::string> ReqToPem(const X509_REQ* req);  // "-----BEGIN CERTIFICATE REQUEST-----"
[[nodiscard]] Result<std::string> KeyToPem(const EVP_PKEY* key);  // PKCS#8, unencrypted
[[nodiscard]] Result<UniquePtr<X509>> CertFromPem(std::string_view pem);
[[nodiscard]] Result<UniquePtr<EVP_PKEY>> KeyFromPem(std::string_view pem);
// Every certificate in a PEM bundle, in order.
[[nodiscard]] Result<std::vector<UniquePtr<X509>>> CertsFromPem(std::string_view pem);

// Upper-case hex of a certificate's serial number, no separators ("0A1B...").
[[nodiscard]] std::string SerialHex(const X509* cert);
// A distinguished name as one line, RFC 2253 order and escaping ("CN=router1,O=Example").
[[nodiscard]] std::string NameToString(const X509_NAME* name);
// An ASN.1 time as seconds since the epoch (0 if it does not decode).
[[nodiscard]] std::int64_t ToUnixTime(const ASN1_TIME* time);
// Lower-case hex of the bytes.
[[nodiscard]] std::string ToHex(ByteView bytes);
// SHA-256 / SHA-1 of the bytes.
[[nodiscard]] Bytes Sha256(ByteView bytes);
[[nodiscard]] Bytes Sha1(ByteView bytes);

}  // namespace scep
