// The GET `message` parameter as real clients encode it (after percent-decoding by the query parser).
#include <doctest/doctest.h>

#include "gateway/message_param.h"

using gateway::DecodeLenientBase64;
using gateway::DecodePostBody;

namespace {
scep::Bytes B(std::string_view s) { return scep::Bytes(s.begin(), s.end()); }
}  // namespace

TEST_CASE("standard base64 with and without padding") {
  CHECK(DecodeLenientBase64("aGVsbG8=") == B("hello"));
  CHECK(DecodeLenientBase64("aGVsbG8") == B("hello"));
  CHECK(DecodeLenientBase64("aGk=") == B("hi"));
  CHECK(DecodeLenientBase64("aGk") == B("hi"));
  CHECK(DecodeLenientBase64("") == B(""));
}

TEST_CASE("URL-safe alphabet (micromdm scepclient), '+' arriving as a space, line breaks (sscep, strongSwan)") {
  // 0xfb 0xff 0xbf encodes as "+/+/" in the standard alphabet and "-_-_" in the URL-safe one.
  const scep::Bytes expected{0xfb, 0xff, 0xbf};
  CHECK(DecodeLenientBase64("+/+/") == expected);
  CHECK(DecodeLenientBase64("-_-_") == expected);
  CHECK(DecodeLenientBase64(" / /") == expected);
  CHECK(DecodeLenientBase64("+/\n+/\n") == expected);
  CHECK(DecodeLenientBase64("+/\r\n+/") == expected);
}

TEST_CASE("not base64: refused rather than guessed") {
  CHECK_FALSE(DecodeLenientBase64("abc*").has_value());
  CHECK_FALSE(DecodeLenientBase64("aGk=aGk=").has_value());  // data after padding
  CHECK_FALSE(DecodeLenientBase64("a").has_value());          // one character cannot encode a byte
  CHECK_FALSE(DecodeLenientBase64("\x80\x81").has_value());
}

TEST_CASE("POST bodies: DER as is, base64 decoded, empty refused") {
  const std::string der("\x30\x03\x02\x01\x05", 5);
  CHECK(DecodePostBody(der) == B(der));
  CHECK(DecodePostBody("MAMCAQU=") == B(der));
  CHECK_FALSE(DecodePostBody("").has_value());
}
