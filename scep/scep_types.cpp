#include "scep/scep_types.h"

#include <charconv>

namespace scep {
namespace {

std::string Unknown(int v) { return "unknown(" + std::to_string(v) + ")"; }

std::optional<int> ParseSmallInt(std::string_view wire) {
  int v = -1;
  auto [ptr, ec] = std::from_chars(wire.data(), wire.data() + wire.size(), v);
  if (ec != std::errc() || ptr != wire.data() + wire.size() || v < 0 || v > 255) return std::nullopt;
  return v;
}

}  // namespace

std::string to_string(MessageType t) {
  switch (t) {
    case MessageType::CertRep: return "CertRep";
    case MessageType::RenewalReq: return "RenewalReq";
    case MessageType::PkcsReq: return "PKCSReq";
    case MessageType::CertPoll: return "CertPoll";
    case MessageType::GetCert: return "GetCert";
    case MessageType::GetCrl: return "GetCRL";
  }
  return Unknown(static_cast<int>(t));
}

std::string to_string(PkiStatus s) {
  switch (s) {
    case PkiStatus::Success: return "SUCCESS";
    case PkiStatus::Failure: return "FAILURE";
    case PkiStatus::Pending: return "PENDING";
  }
  return Unknown(static_cast<int>(s));
}

std::string to_string(FailInfo f) {
  switch (f) {
    case FailInfo::BadAlg: return "badAlg";
    case FailInfo::BadMessageCheck: return "badMessageCheck";
    case FailInfo::BadRequest: return "badRequest";
    case FailInfo::BadTime: return "badTime";
    case FailInfo::BadCertId: return "badCertId";
  }
  return Unknown(static_cast<int>(f));
}

std::string to_string(ContentCipher c) { return OpensslName(c); }
std::string to_string(Digest d) { return OpensslName(d); }

std::optional<MessageType> ParseMessageType(std::string_view wire) {
  auto v = ParseSmallInt(wire);
  if (!v) return std::nullopt;
  switch (*v) {
    case 3: case 17: case 19: case 20: case 21: case 22: return static_cast<MessageType>(*v);
    default: return std::nullopt;
  }
}

std::optional<PkiStatus> ParsePkiStatus(std::string_view wire) {
  auto v = ParseSmallInt(wire);
  if (!v || (*v != 0 && *v != 2 && *v != 3)) return std::nullopt;
  return static_cast<PkiStatus>(*v);
}

std::optional<FailInfo> ParseFailInfo(std::string_view wire) {
  auto v = ParseSmallInt(wire);
  if (!v || *v > 4) return std::nullopt;
  return static_cast<FailInfo>(*v);
}

const char* OpensslName(ContentCipher c) {
  switch (c) {
    case ContentCipher::DesCbc: return "DES-CBC";
    case ContentCipher::DesEde3Cbc: return "DES-EDE3-CBC";
    case ContentCipher::Aes128Cbc: return "AES-128-CBC";
    case ContentCipher::Aes192Cbc: return "AES-192-CBC";
    case ContentCipher::Aes256Cbc: return "AES-256-CBC";
  }
  return "unknown";
}

const char* OpensslName(Digest d) {
  switch (d) {
    case Digest::Md5: return "MD5";
    case Digest::Sha1: return "SHA1";
    case Digest::Sha224: return "SHA224";
    case Digest::Sha256: return "SHA256";
    case Digest::Sha384: return "SHA384";
    case Digest::Sha512: return "SHA512";
  }
  return "unknown";
}

}  // namespace scep
