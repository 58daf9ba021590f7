#include "scep/der_writer.h"

#include <openssl/objects.h>

#include "scep/der_element.h"

namespace scep {

void DerWriter::Close(std::size_t start, unsigned char identifier) {
  header_.clear();
  AppendDerHeader(header_, identifier, out_.size() - start);
  out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(start), header_.begin(), header_.end());
}

void DerWriter::Primitive(unsigned char identifier, ByteView contents) {
  AppendDerHeader(out_, identifier, contents.size());
  Raw(contents);
}

void DerWriter::SmallInteger(unsigned char value) {
  const unsigned char contents[] = {value};
  Primitive(der::kInteger, contents);
}

void DerWriter::Oid(const ASN1_OBJECT* oid) {
  Primitive(der::kOid, ByteView(OBJ_get0_data(oid), OBJ_length(oid)));
}

}  // namespace scep
