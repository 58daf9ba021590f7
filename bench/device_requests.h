// The enrollments a benchmark run sends, built before the timed phase: one PKCSReq per device, each with its own
// subject, transactionID, senderNonce and self-signed signer certificate. RSA-2048 key generation is slow, so the
// devices share a small pool of keys; the requests are still distinct enrollments to the gateway.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "scep/pki_request.h"

namespace bench {

struct RequestOptions {
  std::string challenge;
  scep::ContentCipher cipher = scep::ContentCipher::Aes128Cbc;
  scep::Digest digest = scep::Digest::Sha256;
  std::size_t key_pool_size = 32;
  unsigned build_threads = 2;
};

struct DeviceRequest {
  std::string common_name;
  std::string transaction_id;
  scep::Bytes sender_nonce;
  scep::UniquePtr<X509> signer_cert;  // self-signed, the certificate the reply is encrypted to
  EVP_PKEY* key = nullptr;            // borrowed from the key pool
  std::string body;                   // the pkiMessage DER, ready to POST
};

struct DeviceBatch {
  std::vector<scep::UniquePtr<EVP_PKEY>> key_pool;  // owns the keys the requests borrow
  std::vector<DeviceRequest> requests;
};

// Builds `devices` requests encrypted to `ca_cert`. `run_tag` goes into every name and transactionID so that
// repeated runs against the same gateway are new enrollments, not retries.
[[nodiscard]] scep::Result<DeviceBatch> BuildDeviceBatch(std::size_t devices, X509* ca_cert,
                                                         const std::string& run_tag, const RequestOptions& options);

}  // namespace bench
