#include "gateway/message_param.h"

#include <array>

namespace gateway {
namespace {

constexpr std::array<std::int8_t, 256> MakeTable() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  t['-'] = 62;  // URL-safe alphabet
  t['_'] = 63;
  t[' '] = 62;  // a '+' that a form decoder turned into a space
  return t;
}

constexpr auto kTable = MakeTable();

}  // namespace

std::optional<scep::Bytes> DecodeLenientBase64(std::string_view text) {
  scep::Bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const std::int8_t v = kTable[static_cast<unsigned char>(c)];
    if (v < 0 || padding) return std::nullopt;  // not base64, or data after the padding
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character cannot encode a byte
  return out;
}

std::optional<scep::Bytes> DecodePostBody(std::string_view body) {
  if (body.empty()) return std::nullopt;
  if (static_cast<unsigned char>(body.front()) == 0x30) return scep::Bytes(body.begin(), body.end());
  return DecodeLenientBase64(body);
}

}  // namespace gateway
