#include "gateway/ndes_admin_page.h"

#include <cstdint>

namespace gateway {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

struct Decoded {
  char32_t code_point = kReplacement;
  std::size_t length = 1;  // bytes consumed
};

// One code point from the front of `in` (not empty). Invalid input consumes one byte and yields U+FFFD, so that
// decoding always makes progress and never reads past the end.
Decoded DecodeOne(std::string_view in) {
  const auto lead = static_cast<std::uint8_t>(in[0]);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t cp = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return {};  // a continuation byte or 0xF8..0xFF where a character should start
  }
  if (in.size() < length) return {};
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<std::uint8_t>(in[i]);
    if ((next & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (next & 0x3F);
  }
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  const bool overlong = cp < kSmallest[length];
  const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  if (overlong || surrogate || cp > 0x10FFFF) return {};
  return {cp, length};
}

void AppendUnit(std::string& out, std::uint16_t unit) {
  out.push_back(static_cast<char>(unit & 0xFF));
  out.push_back(static_cast<char>(unit >> 8));
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// The frame every NDES admin page shares; `body` is HTML already.
std::string Page(std::string_view body) {
  std::string html;
  html += "<HTML><HEAD>\r\n";
  html += "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=utf-16\">\r\n";
  html += "<TITLE>Network Device Enrollment Service</TITLE>\r\n";
  html += "</HEAD><BODY>\r\n";
  html += "<H2>Network Device Enrollment Service</H2>\r\n";
  html += body;
  html += "</BODY></HTML>\r\n";
  return "\xFF\xFE" + Utf8ToUtf16Le(html);
}

}  // namespace

std::string Utf8ToUtf16Le(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() * 2);
  while (!utf8.empty()) {
    const Decoded d = DecodeOne(utf8);
    utf8.remove_prefix(d.length);
    if (d.code_point < 0x10000) {
      AppendUnit(out, static_cast<std::uint16_t>(d.code_point));
    } else {
      const char32_t v = d.code_point - 0x10000;
      AppendUnit(out, static_cast<std::uint16_t>(0xD800 + (v >> 10)));
      AppendUnit(out, static_cast<std::uint16_t>(0xDC00 + (v & 0x3FF)));
    }
  }
  return out;
}

// The sentences inside <P> are the ones scrapers match on, including the blanks around the <B> values: keep them
// byte for byte.
std::string NdesPasswordPage(std::string_view ca_thumbprint, std::string_view password, int validity_minutes) {
  std::string body;
  body += "<P> The Network Device Enrollment Service issues certificates to routers and other network devices "
          "through the Simple Certificate Enrollment Protocol (SCEP).\r\n";
  body += "<P> To enroll a device you need the following information:\r\n";
  body += "<P> The thumbprint (hash value) for the CA certificate is: <B> " + EscapeHtml(ca_thumbprint) +
          " </B>\r\n";
  body += "<P> The enrollment challenge password is: <B> " + EscapeHtml(password) + " </B>\r\n";
  body += "<P> This password can be used only once and will expire within " + std::to_string(validity_minutes) +
          " minutes.\r\n";
  body += "<P> Each enrollment requires a new challenge password. Reload this page to get another one.\r\n";
  return Page(body);
}

std::string NdesCacheFullPage() {
  return Page(
      "<P> The password cache is full.\r\n"
      "<P> No new challenge password can be issued until one of the outstanding passwords has been used for an "
      "enrollment or has expired. Try again later, or ask your system administrator to allow more outstanding "
      "passwords.\r\n");
}

std::string NdesNoPermissionPage() {
  return Page(
      "<P> You do not have sufficient permission to enroll with SCEP. Please contact your system "
      "administrator.\r\n");
}

}  // namespace gateway
