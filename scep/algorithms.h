// Which algorithms the library speaks, mapped between OpenSSL NIDs, our enums and fetched implementations.
#pragma once

#include <optional>

#include <openssl/evp.h>

#include "scep/result.h"
#include "scep/scep_types.h"

namespace scep {

[[nodiscard]] std::optional<ContentCipher> CipherFromNid(int nid);
[[nodiscard]] std::optional<Digest> DigestFromNid(int nid);

// Fetched once and cached (fetching is costly in OpenSSL 3). Borrowed pointers; nullptr if unavailable, e.g.
// single DES while the legacy provider is not loaded.
[[nodiscard]] const EVP_CIPHER* FetchCipher(ContentCipher cipher);
[[nodiscard]] const EVP_MD* FetchDigest(Digest digest);

// Loads OpenSSL's "legacy" provider (with "default" beside it) so that single DES can be decrypted and answered.
// Only on request: single DES is weak, and the caller is expected to log that it is enabled. Idempotent.
[[nodiscard]] Result<void> EnableSingleDes();
[[nodiscard]] bool SingleDesEnabled();

}  // namespace scep
