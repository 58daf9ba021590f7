#include "scep/scep_oids.h"

#include <openssl/objects.h>

#include "scep/ossl_ptr.h"

namespace scep::oids {
namespace {

// Parsed once per process: function-local statics are initialised thread-safely and freed at exit.
UniquePtr<ASN1_OBJECT> Make(const char* dotted) { return UniquePtr<ASN1_OBJECT>(OBJ_txt2obj(dotted, 1)); }

}  // namespace

const ASN1_OBJECT* MessageType() { static const auto o = Make("2.16.840.1.113733.1.9.2"); return o.get(); }
const ASN1_OBJECT* PkiStatus() { static const auto o = Make("2.16.840.1.113733.1.9.3"); return o.get(); }
const ASN1_OBJECT* FailInfo() { static const auto o = Make("2.16.840.1.113733.1.9.4"); return o.get(); }
const ASN1_OBJECT* SenderNonce() { static const auto o = Make("2.16.840.1.113733.1.9.5"); return o.get(); }
const ASN1_OBJECT* RecipientNonce() { static const auto o = Make("2.16.840.1.113733.1.9.6"); return o.get(); }
const ASN1_OBJECT* TransactionId() { static const auto o = Make("2.16.840.1.113733.1.9.7"); return o.get(); }
const ASN1_OBJECT* FailInfoText() { static const auto o = Make("1.3.6.1.5.5.7.24.1"); return o.get(); }

}  // namespace scep::oids
