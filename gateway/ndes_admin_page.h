// The HTML pages of NDES's /certsrv/mscep_admin/, as scripts and MDM connectors that scrape them expect: the
// sentences they search for are reproduced exactly, and the page is UTF-16LE with a byte-order mark, because that
// is what Windows serves and some scrapers decode it that way unconditionally.
#pragma once

#include <string>
#include <string_view>

namespace gateway {

inline constexpr std::string_view kNdesPageContentType = "text/html; charset=utf-16le";

// UTF-8 to UTF-16LE bytes, without a BOM. Characters outside the BMP become surrogate pairs; bytes that are not
// valid UTF-8 (stray continuation bytes, overlong forms, surrogates, truncated sequences) become U+FFFD.
[[nodiscard]] std::string Utf8ToUtf16Le(std::string_view utf8);

// The password page: the CA thumbprint (upper-case hex SHA-1 of the CA certificate's DER, as NDES shows it), the
// new password, and how long it stays valid. Returned as UTF-16LE with a BOM, ready to serve.
[[nodiscard]] std::string NdesPasswordPage(std::string_view ca_thumbprint, std::string_view password,
                                           int validity_minutes);
// Too many unused passwords are outstanding (NDES answers this with HTTP 200).
[[nodiscard]] std::string NdesCacheFullPage();
// The caller may not fetch passwords (or did not authenticate, or came over plain HTTP where TLS is required).
[[nodiscard]] std::string NdesNoPermissionPage();

}  // namespace gateway
