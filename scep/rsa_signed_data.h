// A fast path for d2i_CMS_ContentInfo of a DER SignedData whose certificates are RSA certificates in DER.
//
// Why: d2i_CMS_ContentInfo decodes every certificate with d2i_X509, whose key decoding through OpenSSL 3.0's provider
// decoders costs ~200-300 us, once per pkiMessage for the requester's signer certificate. This path cuts the
// certificates field out of the DER, decodes the rest with d2i_CMS_ContentInfo, builds each certificate with
// DecodeRsaCertificate (which proves each one by re-encoding it) and adds them back in order: the object
// d2i_CMS_ContentInfo would make. Anything else (indefinite lengths, no certificates, a certificate the fast path
// refuses, a duplicate, bytes after the ContentInfo, ...) returns nullptr and the caller decodes with
// d2i_CMS_ContentInfo, so the result never differs.
#pragma once

#include "scep/der.h"
#include "scep/ossl_ptr.h"

namespace scep {

// nullptr when the fast path does not apply. Leaves no OpenSSL errors.
[[nodiscard]] UniquePtr<CMS_ContentInfo> DecodeSignedDataWithRsaCerts(ByteView der);

}  // namespace scep
