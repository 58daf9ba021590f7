#include "scep/ca_caps.h"

namespace scep {

std::string CaCapsText(const CaCaps& caps) {
  std::string out;
  auto add = [&out](bool on, const char* keyword) {
    if (on) (out += keyword) += '\n';
  };
  add(caps.post_pki_operation, "POSTPKIOperation");
  add(caps.renewal, "Renewal");
  add(caps.sha1, "SHA-1");
  add(caps.sha256, "SHA-256");
  add(caps.sha512, "SHA-512");
  add(caps.aes, "AES");
  add(caps.des3, "DES3");
  add(caps.get_next_ca_cert, "GetNextCACert");
  add(caps.scep_standard, "SCEPStandard");
  return out;
}

}  // namespace scep
