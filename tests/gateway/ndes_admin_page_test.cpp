// The NDES admin pages: UTF-16LE with a BOM, and the exact sentences that scrapers search for.
#include "gateway/ndes_admin_page.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <regex>
#include <string>

namespace {

using gateway::Utf8ToUtf16Le;

// Written independently of the encoder under test: UTF-16LE (surrogate pairs included) back to UTF-8.
std::string Utf16LeToUtf8(const std::string& bytes) {
  REQUIRE(bytes.size() % 2 == 0);
  std::string out;
  auto unit = [&](std::size_t i) {
    return static_cast<char32_t>(static_cast<std::uint8_t>(bytes[i]) |
                                 (static_cast<std::uint8_t>(bytes[i + 1]) << 8));
  };
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    char32_t cp = unit(i);
    if (cp >= 0xD800 && cp < 0xDC00) {
      REQUIRE(i + 3 < bytes.size());
      const char32_t low = unit(i + 2);
      REQUIRE((low >= 0xDC00 && low < 0xE000));
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 2;
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

// A served page: BOM first, then the HTML.
std::string DecodePage(const std::string& page) {
  REQUIRE(page.size() >= 2);
  CHECK(static_cast<std::uint8_t>(page[0]) == 0xFF);
  CHECK(static_cast<std::uint8_t>(page[1]) == 0xFE);
  return Utf16LeToUtf8(page.substr(2));
}

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) out.push_back(static_cast<char>(v));
  return out;
}

}  // namespace

TEST_CASE("ASCII becomes one little-endian 16-bit unit per character") {
  CHECK(Utf8ToUtf16Le("") == "");
  CHECK(Utf8ToUtf16Le("AB") == Bytes({'A', 0, 'B', 0}));
  CHECK(Utf8ToUtf16Le("<B>\r\n") == Bytes({'<', 0, 'B', 0, '>', 0, '\r', 0, '\n', 0}));
}

TEST_CASE("characters beyond ASCII use their code point, low byte first") {
  CHECK(Utf8ToUtf16Le("\xC3\xA9") == Bytes({0xE9, 0x00}));              // é U+00E9
  CHECK(Utf8ToUtf16Le("\xE2\x82\xAC") == Bytes({0xAC, 0x20}));          // € U+20AC
  CHECK(Utf8ToUtf16Le("\xEF\xBF\xBD") == Bytes({0xFD, 0xFF}));          // U+FFFD itself
  CHECK(Utf8ToUtf16Le("\xF0\x9F\x98\x80") == Bytes({0x3D, 0xD8, 0x00, 0xDE}));  // U+1F600 as a surrogate pair
  const std::string mixed = "Caf\xC3\xA9 \xE2\x82\xAC 5 \xF0\x9F\x98\x80 \xE6\x97\xA5";
  CHECK(Utf16LeToUtf8(Utf8ToUtf16Le(mixed)) == mixed);
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD and decoding goes on") {
  const std::string fffd = Bytes({0xFD, 0xFF});
  CHECK(Utf8ToUtf16Le("\xC3") == fffd);                             // truncated
  CHECK(Utf8ToUtf16Le("a\xC3") == Bytes({'a', 0}) + fffd);
  CHECK(Utf8ToUtf16Le("\x80z") == fffd + Bytes({'z', 0}));          // stray continuation byte
  CHECK(Utf8ToUtf16Le("\xC0\xAF") == fffd + fffd);                  // overlong '/'
  CHECK(Utf8ToUtf16Le("\xED\xA0\x80") == fffd + fffd + fffd);       // a UTF-16 surrogate encoded in UTF-8
  CHECK(Utf8ToUtf16Le("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // beyond U+10FFFF
  CHECK(Utf8ToUtf16Le("\xFF") == fffd);
}

TEST_CASE("the content type names UTF-16LE for the HTML") {
  CHECK(gateway::kNdesPageContentType == "text/html; charset=utf-16le");
}

TEST_CASE("the password page carries the sentences scrapers read") {
  const std::string thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567";
  const std::string html = DecodePage(gateway::NdesPasswordPage(thumbprint, "89ABCDEF01234567", 45));
  CHECK(html.find("<TITLE>Network Device Enrollment Service</TITLE>") != std::string::npos);
  CHECK(html.find("The thumbprint (hash value) for the CA certificate is: <B> " + thumbprint + " </B>") !=
        std::string::npos);
  CHECK(html.find("This password can be used only once and will expire within 45 minutes.") != std::string::npos);
  CHECK(html.find("Each enrollment requires a new challenge password.") != std::string::npos);

  std::smatch match;
  REQUIRE(std::regex_search(html, match, std::regex("The enrollment challenge password is: <B> ([0-9A-F]+) </B>")));
  CHECK(match[1] == "89ABCDEF01234567");
}

TEST_CASE("values on the password page are HTML-escaped") {
  const std::string html = DecodePage(gateway::NdesPasswordPage("<x>", "a&b", 60));
  CHECK(html.find("<B> &lt;x&gt; </B>") != std::string::npos);
  CHECK(html.find("<B> a&amp;b </B>") != std::string::npos);
}

TEST_CASE("the cache-full and no-permission pages") {
  const std::string full = DecodePage(gateway::NdesCacheFullPage());
  CHECK(full.find("The password cache is full.") != std::string::npos);
  CHECK(full.find("until one of the outstanding passwords has been used") != std::string::npos);
  CHECK(full.find("The enrollment challenge password is:") == std::string::npos);
  CHECK(full.find("Network Device Enrollment Service") != std::string::npos);

  const std::string denied = DecodePage(gateway::NdesNoPermissionPage());
  CHECK(denied.find("You do not have sufficient permission to enroll with SCEP. Please contact your system "
                    "administrator.") != std::string::npos);
  CHECK(denied.find("The enrollment challenge password is:") == std::string::npos);
}
