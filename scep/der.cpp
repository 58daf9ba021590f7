#include "scep/der.h"

#include <ctime>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

namespace scep {
namespace {

Result<std::string> BioToString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len < 0) return OpensslError(ErrorCode::Internal, "cannot read memory BIO");
  return std::string(data, static_cast<std::size_t>(len));
}

UniquePtr<BIO> ReadBio(std::string_view text) {
  return UniquePtr<BIO>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

Result<Bytes> CertToDer(const X509* cert) { return EncodeDer(cert, i2d_X509); }
Result<Bytes> CrlToDer(const X509_CRL* crl) { return EncodeDer(crl, i2d_X509_CRL); }
Result<Bytes> ReqToDer(const X509_REQ* req) { return EncodeDer(req, i2d_X509_REQ); }
Result<Bytes> CmsToDer(const CMS_ContentInfo* cms) {
  return EncodeDer(cms, i2d_CMS_ContentInfo);
}

Result<UniquePtr<X509>> CertFromDer(ByteView der) {
  const unsigned char* p = der.data();
  UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return OpensslError(ErrorCode::Malformed, "not a DER certificate");
  return cert;
}

Result<UniquePtr<X509_CRL>> CrlFromDer(ByteView der) {
  const unsigned char* p = der.data();
  UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl) return OpensslError(ErrorCode::Malformed, "not a DER CRL");
  return crl;
}

Result<std::string> CertToPem(const X509* cert) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpensslError(ErrorCode::Internal, "cannot write PEM");
  return BioToString(bio.get());
}

Result<std::string> ReqToPem(const X509_REQ* req) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req) != 1) return OpensslError(ErrorCode::Internal, "cannot write PEM");
  return BioToString(bio.get());
}

Result<std::string> KeyToPem(const EVP_PKEY* key) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError(ErrorCode::Internal, "cannot write private key PEM");
  }
  return BioToString(bio.get());
}

Result<UniquePtr<X509>> CertFromPem(std::string_view pem) {
  auto bio = ReadBio(pem);
  UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpensslError(ErrorCode::Malformed, "not a PEM certificate");
  return cert;
}

Result<UniquePtr<EVP_PKEY>> KeyFromPem(std::string_view pem) {
  auto bio = ReadBio(pem);
  UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpensslError(ErrorCode::Malformed, "not a PEM private key");
  return key;
}

Result<std::vector<UniquePtr<X509>>> CertsFromPem(std::string_view pem) {
  auto bio = ReadBio(pem);
  std::vector<UniquePtr<X509>> certs;
  while (UniquePtr<X509> cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    certs.push_back(std::move(cert));
  }
  ERR_clear_error();  // the loop always ends on a "no start line" error
  if (certs.empty()) return MakeError(ErrorCode::Malformed, "no PEM certificate found");
  return certs;
}

std::string SerialHex(const X509* cert) {
  UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return {};
  OpensslString hex(BN_bn2hex(bn.get()));
  return hex ? std::string(hex.get()) : std::string();
}

std::string NameToString(const X509_NAME* name) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) return {};
  auto s = BioToString(bio.get());
  return s ? *s : std::string();
}

std::int64_t ToUnixTime(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string ToHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

Bytes Sha256(ByteView bytes) {
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(bytes.data(), bytes.size(), out.data());
  return out;
}

Bytes Sha1(ByteView bytes) {
  Bytes out(SHA_DIGEST_LENGTH);
  SHA1(bytes.data(), bytes.size(), out.data());
  return out;
}

}  // namespace scep
