// libFuzzer target: everything the gateway does with untrusted pkiMessage bytes before it decides to issue.
// Run: build-fuzz/tests/fuzz/pki_message_fuzzer -max_total_time=60 CORPUS_DIR tests/fixtures/sscep
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "scep/algorithms.h"
#include "scep/message_content.h"
#include "scep/pki_envelope.h"
#include "scep/pki_message.h"
#include "scep/pkcs_req.h"

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The sscep fixture CA: with its key, the fuzzer also reaches decryption and the inner content parsers.
struct Recipient {
  scep::UniquePtr<X509> cert;
  scep::UniquePtr<EVP_PKEY> key;
};

const Recipient& FixtureCa() {
  static const Recipient ca = [] {
    const std::string dir = std::string(SCEP_SOURCE_DIR) + "/tests/fixtures/sscep/";
    auto cert = scep::CertFromPem(ReadText(dir + "ca.pem"));
    auto key = scep::KeyFromPem(ReadText(dir + "ca.key"));
    if (!cert || !key) std::abort();
    (void)scep::EnableSingleDes();
    return Recipient{std::move(*cert), std::move(*key)};
  }();
  return ca;
}

void ParseInner(scep::MessageType type, const scep::Bytes& content) {
  switch (type) {
    case scep::MessageType::PkcsReq:
    case scep::MessageType::RenewalReq: (void)scep::ParsePkcsReq(content); break;
    case scep::MessageType::CertPoll: (void)scep::ParseIssuerAndSubject(content); break;
    case scep::MessageType::GetCert:
    case scep::MessageType::GetCrl: (void)scep::ParseIssuerAndSerial(content); break;
    case scep::MessageType::CertRep: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Recipient& ca = FixtureCa();
  auto message = scep::ParsePkiMessage(scep::ByteView(data, size));
  if (!message) return 0;
  (void)scep::VerifyPkiMessage(*message);  // the gateway decrypts only verified messages; fuzz both paths anyway
  auto inner = scep::DecryptPkiEnvelope(message->envelope(), ca.cert.get(), ca.key.get(),
                                        scep::EnvelopePolicy{.allow_single_des = true});
  if (inner) ParseInner(message->message_type, inner->content);
  return 0;
}
