// Building CertRep replies (RFC 8894 section 3.3.2): SUCCESS, FAILURE and PENDING.
#pragma once

#include <span>
#include <string_view>

#include "scep/pki_message.h"

namespace scep {

// What a reply takes from the request it answers.
struct ReplyTo {
  std::string transaction_id;        // echoed unchanged
  Bytes request_sender_nonce;        // becomes the recipientNonce
  std::optional<Digest> request_digest;
  X509* recipient = nullptr;         // the request's signer certificate (borrowed); SUCCESS is encrypted to it
  ContentCipher cipher = ContentCipher::Aes128Cbc;  // the request's content cipher; SUCCESS uses the same
};

// The reply fields of a parsed request; the cipher is known only after decryption (AES-128 until then).
[[nodiscard]] ReplyTo ReplyToRequest(const PkiMessage& request);

// The digest a reply is signed with: the request's, except SHA-256 where the request used MD5 or an unknown one.
[[nodiscard]] Digest ReplyDigest(std::optional<Digest> request_digest);

// SUCCESS: degenerate_certs (certificate(s) or a CRL, see degenerate_certs.h) encrypted to the requester.
// extra_certs go into the outer SignedData's certificate set beside the signer (e.g. the CA for some devices).
[[nodiscard]] Result<Bytes> BuildCertRepSuccess(const ReplyTo& to, const SigningKey& signer, ByteView degenerate_certs,
                                                std::span<X509* const> extra_certs = {});
[[nodiscard]] Result<Bytes> BuildCertRepFailure(const ReplyTo& to, const SigningKey& signer, FailInfo fail_info,
                                                std::string_view fail_info_text = {});
[[nodiscard]] Result<Bytes> BuildCertRepPending(const ReplyTo& to, const SigningKey& signer);

}  // namespace scep
