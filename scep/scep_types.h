// SCEP's wire enums (RFC 8894 section 3.2.1), with values equal to what travels on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scep {

enum class MessageType : std::uint8_t {
  CertRep = 3,
  RenewalReq = 17,
  PkcsReq = 19,
  CertPoll = 20,  // a.k.a. GetCertInitial
  GetCert = 21,
  GetCrl = 22,
};

enum class PkiStatus : std::uint8_t { Success = 0, Failure = 2, Pending = 3 };

enum class FailInfo : std::uint8_t {
  BadAlg = 0,
  BadMessageCheck = 1,
  BadRequest = 2,
  BadTime = 3,
  BadCertId = 4,
};

// Content-encryption algorithms a pkcsPKIEnvelope may use. Ordered weakest first.
enum class ContentCipher : std::uint8_t { DesCbc, DesEde3Cbc, Aes128Cbc, Aes192Cbc, Aes256Cbc };

// Message digests for signatures. MD5 is accepted on input only.
enum class Digest : std::uint8_t { Md5, Sha1, Sha224, Sha256, Sha384, Sha512 };

// Never throw: unknown values print as "unknown(N)".
std::string to_string(MessageType t);
std::string to_string(PkiStatus s);
std::string to_string(FailInfo f);
std::string to_string(ContentCipher c);
std::string to_string(Digest d);

std::optional<MessageType> ParseMessageType(std::string_view wire);  // "19" -> PkcsReq
std::optional<PkiStatus> ParsePkiStatus(std::string_view wire);
std::optional<FailInfo> ParseFailInfo(std::string_view wire);

// OpenSSL algorithm names ("AES-256-CBC", "SHA256") for EVP_*_fetch.
const char* OpensslName(ContentCipher c);
const char* OpensslName(Digest d);

}  // namespace scep
