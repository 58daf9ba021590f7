// The one boundary where OpenSSL's thread-local error queue becomes an error value.
#include <openssl/err.h>

#include "scep/result.h"

namespace scep {
namespace {

std::string DrainOpensslErrors() {
  std::string text;
  unsigned long code = 0;
  const char* file = nullptr;
  int line = 0;
  const char* data = nullptr;
  int flags = 0;
  while ((code = ERR_get_error_all(&file, &line, nullptr, &data, &flags)) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && data[0] != '\0') {
      text += " (";
      text += data;
      text += ")";
    }
  }
  return text;
}

}  // namespace

Error OpensslError(ErrorCode code, std::string detail) {
  return Error{code, std::move(detail), DrainOpensslErrors()};
}

Error MakeError(ErrorCode code, std::string detail) {
  ERR_clear_error();
  return Error{code, std::move(detail), {}};
}

std::string to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::Malformed: return "malformed";
    case ErrorCode::BadMessageCheck: return "badMessageCheck";
    case ErrorCode::BadAlg: return "badAlg";
    case ErrorCode::BadRequest: return "badRequest";
    case ErrorCode::BadTime: return "badTime";
    case ErrorCode::BadCertId: return "badCertId";
    case ErrorCode::Internal: return "internal";
  }
  return "unknown(" + std::to_string(static_cast<int>(code)) + ")";
}

std::optional<FailInfo> Error::fail_info() const {
  switch (code) {
    case ErrorCode::BadMessageCheck: return FailInfo::BadMessageCheck;
    case ErrorCode::BadAlg: return FailInfo::BadAlg;
    case ErrorCode::BadRequest: return FailInfo::BadRequest;
    case ErrorCode::BadTime: return FailInfo::BadTime;
    case ErrorCode::BadCertId: return FailInfo::BadCertId;
    case ErrorCode::Malformed:
    case ErrorCode::Internal: return std::nullopt;
  }
  return std::nullopt;
}

std::string Error::ToString() const {
  std::string s = to_string(code) + ": " + detail;
  if (!openssl_errors.empty()) s += " [" + openssl_errors + "]";
  return s;
}

}  // namespace scep
