// A small SCEP client for the integration tests: the client side of scep/ (pki_request.h) over gateway::HttpClient.
//
// Nothing here asserts: every function reports problems as values, so that threads can use it too and the test
// decides what is a failure. One ScepTestClient per thread (HttpClient is not thread-safe).
#pragma once

#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/http_client.h"
#include "scep/algorithms.h"
#include "scep/ca_caps.h"
#include "scep/degenerate_certs.h"
#include "scep/message_content.h"
#include "scep/pki_message.h"
#include "scep/pki_request.h"

namespace test {

// ---- devices -----------------------------------------------------------------------------------------------------

struct DeviceSpec {
  std::vector<std::pair<std::string, std::string>> subject{{"O", "Integration Tests"}, {"CN", "device"}};
  std::string sans;       // OpenSSL syntax: "DNS:a.example,IP:10.0.0.1,email:a@b.example,URI:https://x/"
  std::string challenge;  // the challengePassword attribute; empty: none
  std::string key_usage;           // keyUsage to request, OpenSSL syntax ("digitalSignature"); empty: none
  std::string extended_key_usage;  // extendedKeyUsage likewise ("clientAuth"); empty: none
  int rsa_bits = 2048;             // size of the RSA key MakeDevice generates when it is not given one
};

// What a device owns: its key, its PKCS#10 request, and the self-signed certificate it signs a first request with.
struct Device {
  scep::UniquePtr<EVP_PKEY> key;
  scep::UniquePtr<X509_REQ> csr;
  scep::Bytes csr_der;
  scep::UniquePtr<X509> self_signed;
  std::string error;  // non-empty: something above could not be made
};

inline scep::UniquePtr<X509_NAME> MakeName(const std::vector<std::pair<std::string, std::string>>& entries) {
  scep::UniquePtr<X509_NAME> name(X509_NAME_new());
  for (const auto& [field, value] : entries) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(value.c_str());
    if (!name || X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8, bytes, -1, -1, 0) != 1) {
      return nullptr;
    }
  }
  return name;
}

// Builds the CSR with the OpenSSL API: subject, an extension request for the SANs, challengePassword, signed with
// SHA-256. `key` is shared (up-ref'd) when given, to save RSA key generation; otherwise a new RSA-2048 key is made.
inline Device MakeDevice(const DeviceSpec& spec, EVP_PKEY* key = nullptr) {
  Device d;
  d.key = key != nullptr ? scep::UpRef(key)
                         : scep::UniquePtr<EVP_PKEY>(EVP_RSA_gen(static_cast<unsigned>(spec.rsa_bits)));
  d.csr.reset(X509_REQ_new());
  auto name = MakeName(spec.subject);
  if (!d.key || !d.csr || !name || X509_REQ_set_version(d.csr.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(d.csr.get(), name.get()) != 1 || X509_REQ_set_pubkey(d.csr.get(), d.key.get()) != 1) {
    d.error = "cannot start the CSR";
    return d;
  }
  const std::pair<int, const std::string*> wanted[] = {{NID_subject_alt_name, &spec.sans},
                                                       {NID_key_usage, &spec.key_usage},
                                                       {NID_ext_key_usage, &spec.extended_key_usage}};
  scep::UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
  if (!exts) {
    d.error = "cannot make the extension list";
    return d;
  }
  for (const auto& [nid, value] : wanted) {
    if (value->empty()) continue;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, nullptr, nullptr, d.csr.get(), nullptr, 0);
    scep::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value->c_str()));
    if (!ext || sk_X509_EXTENSION_push(exts.get(), ext.get()) == 0) {
      d.error = std::string("cannot make the ") + OBJ_nid2sn(nid) + " extension from '" + *value + "'";
      return d;
    }
    ext.release();  // owned by the stack now
  }
  if (sk_X509_EXTENSION_num(exts.get()) > 0) {
    if (X509_REQ_add_extensions(d.csr.get(), exts.get()) != 1) {
      d.error = "cannot add the extension request";
      return d;
    }
  }
  if (!spec.challenge.empty()) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(spec.challenge.data());
    if (X509_REQ_add1_attr_by_NID(d.csr.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8, bytes,
                                  static_cast<int>(spec.challenge.size())) != 1) {
      d.error = "cannot add challengePassword";
      return d;
    }
  }
  if (X509_REQ_sign(d.csr.get(), d.key.get(), EVP_sha256()) <= 0) {
    d.error = "cannot sign the CSR";
    return d;
  }
  auto der = scep::ReqToDer(d.csr.get());
  auto self_signed = scep::MakeSelfSignedCert(d.key.get(), name.get(), scep::Digest::Sha256);
  if (!der || !self_signed) {
    d.error = "cannot encode the CSR or make the self-signed certificate";
    return d;
  }
  d.csr_der = std::move(*der);
  d.self_signed = std::move(*self_signed);
  return d;
}

// ---- messages on the wire ----------------------------------------------------------------------------------------

// How a pkiMessage travels: POST (three Content-Type variants) or GET with the base64 variants real clients send.
enum class Transport {
  Post,                  // Content-Type application/x-pki-message
  PostNoContentType,     // strongSwan, sscep
  PostWrongContentType,  // micromdm sends application/octet-stream; we send text/plain
  GetPercentEncoded,     // certmonger: standard base64, %2B %2F %3D
  GetBase64Url,          // micromdm: '-' '_', '=' as %3D
  GetRawPlus,            // '+' '/' '=' left raw: a form decoder may turn '+' into a space
  GetLineBreaks,         // strongSwan, sscep: %0A every 64 characters, '+' as %2B
  GetNoPadding,          // padding dropped
};

inline const char* to_string(Transport t) {
  switch (t) {
    case Transport::Post: return "POST";
    case Transport::PostNoContentType: return "POST without Content-Type";
    case Transport::PostWrongContentType: return "POST with text/plain";
    case Transport::GetPercentEncoded: return "GET base64 percent-encoded";
    case Transport::GetBase64Url: return "GET base64url";
    case Transport::GetRawPlus: return "GET raw '+'";
    case Transport::GetLineBreaks: return "GET %0A every 64";
    case Transport::GetNoPadding: return "GET no padding";
  }
  return "?";
}

inline std::string Base64(scep::ByteView bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (n > 1) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (n > 2) v |= bytes[i + 2];
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 0x3f] : '=';
  }
  return out;
}

// One base64 character as the given GET transport writes it into the query string.
inline std::string EncodeBase64Char(char c, Transport t) {
  switch (t) {
    case Transport::GetRawPlus: return std::string(1, c);
    case Transport::GetBase64Url:
      if (c == '+') return "-";
      if (c == '/') return "_";
      break;
    case Transport::GetLineBreaks:
      if (c == '/') return "/";  // strongSwan and sscep leave '/' alone
      break;
    case Transport::GetNoPadding:
      if (c == '=') return "";
      break;
    default: break;
  }
  if (c == '+') return "%2B";
  if (c == '/') return "%2F";
  if (c == '=') return "%3D";
  return std::string(1, c);
}

// The value of the `message` query parameter for a GET transport.
inline std::string EncodeMessageParam(scep::ByteView der, Transport t) {
  const std::string b64 = Base64(der);
  std::string out;
  for (std::size_t i = 0; i < b64.size(); ++i) {
    if (t == Transport::GetLineBreaks && i > 0 && i % 64 == 0) out += "%0A";
    out += EncodeBase64Char(b64[i], t);
  }
  return out;
}

// ---- requests and replies ----------------------------------------------------------------------------------------

struct RequestOptions {
  scep::MessageType type = scep::MessageType::PkcsReq;
  scep::ContentCipher cipher = scep::ContentCipher::Aes128Cbc;
  scep::Digest digest = scep::Digest::Sha256;
  Transport transport = Transport::Post;
  std::string transaction_id;  // empty: 32 random hex digits
  X509* signer_cert = nullptr;      // empty: the device's self-signed certificate (borrowed)
  EVP_PKEY* signer_key = nullptr;   // empty: the device's key (borrowed)
  X509* recipient = nullptr;        // empty: the client's recipient, as GetCACert named it (borrowed)
};

struct ScepReply {
  std::string error;  // transport or decoding problem: nothing below is meaningful past what was filled in
  // What was sent.
  scep::Bytes request;
  std::string transaction_id;
  scep::Bytes sender_nonce;
  // What came back.
  int http_status = 0;
  std::string content_type;
  std::string body;
  std::optional<scep::PkiMessage> rep;  // the parsed CertRep (HTTP 200 only)
  bool signature_ok = false;            // VerifyPkiMessage on the CertRep
  // The CertRep's signer is the certificate GetCACert published for signing replies: the signing RA of a split
  // RA, the RA of a single RA, otherwise the CA (false before FetchCa).
  bool signed_by_published_signer = false;
  std::string open_error;               // SUCCESS whose envelope would not open
  std::vector<scep::UniquePtr<X509>> certs;     // SUCCESS: the certificates in the envelope
  std::vector<scep::UniquePtr<X509_CRL>> crls;  // SUCCESS: the CRLs in the envelope

  bool success() const { return rep && rep->pki_status == scep::PkiStatus::Success && open_error.empty(); }
  std::optional<scep::FailInfo> fail_info() const {
    return rep && rep->pki_status == scep::PkiStatus::Failure ? rep->fail_info : std::nullopt;
  }
  X509* cert() const { return certs.empty() ? nullptr : certs.front().get(); }
  // A one-line description for INFO/CAPTURE.
  std::string Describe() const {
    std::string s = error.empty() ? "" : "error: " + error + "; ";
    s += "HTTP " + std::to_string(http_status);
    if (rep) {
      s += " pkiStatus=" + (rep->pki_status ? scep::to_string(*rep->pki_status) : std::string("none"));
      if (rep->fail_info) s += " failInfo=" + scep::to_string(*rep->fail_info) + " (" + rep->fail_info_text + ")";
    } else if (http_status != 200) {
      s += " body: " + body.substr(0, 200);
    }
    if (!open_error.empty()) s += " open_error: " + open_error;
    return s;
  }
};

inline std::string RandomHex(std::size_t bytes) {
  scep::Bytes b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) return "rand-failed";
  return scep::ToHex(b);
}

class ScepTestClient {
 public:
  explicit ScepTestClient(std::uint16_t port, std::string path = "/scep")
      : http_("127.0.0.1", port, std::chrono::seconds(60)), path_(std::move(path)) {
    (void)scep::EnableSingleDes();  // so that DES requests can be built; the gateway decides whether to accept
  }

  gateway::HttpClient& http() { return http_; }
  const std::string& path() const { return path_; }
  X509* ca() const { return ca_.get(); }
  X509* recipient() const { return recipient_.get(); }
  // Whose signature CertReps should carry, as GetCACert told (see ScepReply::signed_by_published_signer).
  X509* reply_signer() const { return reply_signer_.get(); }
  // Every certificate of the last GetCACert, in the order sent.
  const std::vector<scep::UniquePtr<X509>>& published() const { return published_; }

  std::string Target(const std::string& query) const { return path_ + "?" + query; }

  // GetCACert: one DER certificate, or CA + RA as certs-only PKCS#7. Returns an error text, empty on success.
  std::string FetchCa() {
    auto resp = http_.Get(Target("operation=GetCACert"));
    if (!resp) return resp.error().ToString();
    if (resp->status != 200) return "GetCACert: HTTP " + std::to_string(resp->status);
    const scep::ByteView body = scep::AsBytes(resp->body);
    ca_.reset();
    recipient_.reset();
    reply_signer_.reset();
    published_.clear();
    if (resp->content_type == scep::kCaCertContentType) {
      auto cert = scep::CertFromDer(body);
      if (!cert) return "GetCACert: not a DER certificate";
      ca_ = std::move(*cert);
      recipient_ = scep::UpRef(ca_.get());
      reply_signer_ = scep::UpRef(ca_.get());
      published_.push_back(scep::UpRef(ca_.get()));
      return {};
    }
    auto p7 = scep::ParseDegenerateCerts(body);
    if (!p7) return "GetCACert: content type '" + resp->content_type + "' and not a certs-only PKCS#7";
    // As Windows clients choose: encrypt to the RA with keyEncipherment, expect replies from the one with
    // digitalSignature (one RA may be both).
    for (auto& cert : p7->certs) {
      published_.push_back(scep::UpRef(cert.get()));
      const bool self_signed = X509_check_issued(cert.get(), cert.get()) == X509_V_OK;
      const std::uint32_t usage = X509_get_key_usage(cert.get());
      if (self_signed && !ca_) ca_ = scep::UpRef(cert.get());
      if (!self_signed && !recipient_ && (usage & KU_KEY_ENCIPHERMENT)) recipient_ = scep::UpRef(cert.get());
      if (!self_signed && !reply_signer_ && (usage & KU_DIGITAL_SIGNATURE)) reply_signer_ = scep::UpRef(cert.get());
    }
    if (!ca_ || !recipient_) return "GetCACert: no self-signed CA or no encryption RA in the PKCS#7";
    if (!reply_signer_) reply_signer_ = scep::UpRef(ca_.get());
    return {};
  }

  // Builds a pkiMessage around `content`, signed by `signer`, without sending it (r.request; r.error on failure).
  ScepReply Prepare(scep::ByteView content, X509* signer_cert, EVP_PKEY* signer_key, const RequestOptions& o) {
    ScepReply r;
    scep::PkiRequest req;
    req.type = o.type;
    req.transaction_id = o.transaction_id.empty() ? RandomHex(16) : o.transaction_id;
    req.sender_nonce.resize(16);
    if (RAND_bytes(req.sender_nonce.data(), 16) != 1) req.sender_nonce.clear();  // empty: the library makes one
    req.content.assign(content.begin(), content.end());
    req.recipient = o.recipient != nullptr ? o.recipient : recipient_.get();
    req.cipher = o.cipher;
    req.signer = {signer_cert, signer_key};
    req.digest = o.digest;
    r.transaction_id = req.transaction_id;
    r.sender_nonce = req.sender_nonce;
    auto der = scep::BuildPkiRequest(req);
    if (!der) {
      r.error = "cannot build the request: " + der.error().ToString();
      return r;
    }
    r.request = std::move(*der);
    return r;
  }

  // Prepare, then SendBytes.
  ScepReply Send(scep::ByteView content, X509* signer_cert, EVP_PKEY* signer_key, const RequestOptions& o) {
    ScepReply r = Prepare(content, signer_cert, signer_key, o);
    if (r.error.empty()) SendBytes(r, o.transport, signer_cert, signer_key);
    return r;
  }

  // Sends the very bytes of an earlier request again, as a device retrying would; a fresh reply.
  ScepReply Resend(const ScepReply& earlier, Transport t, X509* signer_cert, EVP_PKEY* signer_key) {
    ScepReply r;
    r.request = earlier.request;
    r.transaction_id = earlier.transaction_id;
    r.sender_nonce = earlier.sender_nonce;
    SendBytes(r, t, signer_cert, signer_key);
    return r;
  }

  // Sends prepared pkiMessage bytes (r.request) and fills in the reply fields of r.
  void SendBytes(ScepReply& r, Transport t, X509* signer_cert, EVP_PKEY* signer_key) {
    auto resp = Transmit(r.request, t);
    if (!resp) {
      r.error = resp.error().ToString();
      return;
    }
    r.http_status = resp->status;
    r.content_type = resp->content_type;
    r.body = std::move(resp->body);
    if (r.http_status != 200) return;
    auto rep = scep::ParsePkiMessage(scep::AsBytes(r.body));
    if (!rep) {
      r.error = "reply is not a pkiMessage: " + rep.error().ToString();
      return;
    }
    r.rep = std::move(*rep);
    r.signature_ok = scep::VerifyPkiMessage(*r.rep).ok();
    r.signed_by_published_signer = reply_signer_ && r.rep->signer_cert() != nullptr &&
                                   X509_cmp(r.rep->signer_cert(), reply_signer_.get()) == 0;
    if (r.rep->pki_status != scep::PkiStatus::Success) return;
    auto opened = scep::OpenCertRep(*r.rep, signer_cert, signer_key);
    if (!opened) {
      r.open_error = opened.error().ToString();
      return;
    }
    r.certs = std::move(opened->certs);
    r.crls = std::move(opened->crls);
  }

  // PKCSReq (or o.type) with the device's CSR, signed by its self-signed certificate unless o says otherwise.
  ScepReply Enroll(const Device& d, const RequestOptions& o = {}) {
    X509* cert = o.signer_cert != nullptr ? o.signer_cert : d.self_signed.get();
    EVP_PKEY* key = o.signer_key != nullptr ? o.signer_key : d.key.get();
    return Send(d.csr_der, cert, key, o);
  }

  // CertPoll (GetCertInitial) for the device's request: IssuerAndSubject of the CA (from GetCACert) and the CSR's
  // subject, under `transaction_id`, signed like the original request.
  ScepReply Poll(const Device& d, const std::string& transaction_id, RequestOptions o = {}) {
    ScepReply r;
    if (!ca_) {
      r.error = "Poll before FetchCa";
      return r;
    }
    auto ias = scep::EncodeIssuerAndSubject(X509_get_subject_name(ca_.get()), X509_REQ_get_subject_name(d.csr.get()));
    if (!ias) {
      r.error = "cannot encode IssuerAndSubject: " + ias.error().ToString();
      return r;
    }
    o.type = scep::MessageType::CertPoll;
    o.transaction_id = transaction_id;
    X509* cert = o.signer_cert != nullptr ? o.signer_cert : d.self_signed.get();
    EVP_PKEY* key = o.signer_key != nullptr ? o.signer_key : d.key.get();
    return Send(*ias, cert, key, o);
  }

  // GetCRL for the CA that issued `cert`, signed by `cert` and `key`: IssuerAndSerialNumber of `cert`.
  ScepReply GetCrl(X509* cert, EVP_PKEY* key, RequestOptions o = {}) {
    ScepReply r;
    auto ias = scep::EncodeIssuerAndSerial(X509_get_issuer_name(cert), X509_get0_serialNumber(cert));
    if (!ias) {
      r.error = "cannot encode IssuerAndSerialNumber: " + ias.error().ToString();
      return r;
    }
    o.type = scep::MessageType::GetCrl;
    return Send(*ias, cert, key, o);
  }

 private:
  scep::Result<gateway::HttpClientResponse> Transmit(const scep::Bytes& der, Transport t) {
    const std::string body(der.begin(), der.end());
    switch (t) {
      case Transport::Post: return http_.Post(Target("operation=PKIOperation"), body, scep::kPkiMessageContentType);
      case Transport::PostNoContentType: return http_.Post(Target("operation=PKIOperation"), body, "");
      case Transport::PostWrongContentType: return http_.Post(Target("operation=PKIOperation"), body, "text/plain");
      default: return http_.Get(Target("operation=PKIOperation&message=" + EncodeMessageParam(der, t)));
    }
  }

  gateway::HttpClient http_;
  std::string path_;
  scep::UniquePtr<X509> ca_;
  scep::UniquePtr<X509> recipient_;
  scep::UniquePtr<X509> reply_signer_;
  std::vector<scep::UniquePtr<X509>> published_;
};

}  // namespace test
