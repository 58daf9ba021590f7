// One PKIOperation in flight, shared by the files that implement ScepService's PKIOperation.
#pragma once

#include "gateway/scep_service.h"
#include "scep/pki_envelope.h"
#include "scep/pki_message.h"

namespace gateway {

struct ScepService::Request {
  scep::PkiMessage message;
  scep::ReplyTo reply_to;
  scep::DecryptedEnvelope inner;
  PkiOutcome& outcome;
  std::string client_address;
  bool audited = false;  // a decision about this request is in the audit file already
};

}  // namespace gateway
