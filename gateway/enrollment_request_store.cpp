#include "gateway/enrollment_request_store.h"

namespace gateway {

std::optional<RequestStatus> ParseRequestStatus(std::string_view text) {
  // Derived from to_string, so the spelling has a single source.
  for (RequestStatus status :
       {RequestStatus::Pending, RequestStatus::Approved, RequestStatus::Denied, RequestStatus::Issued}) {
    if (text == to_string(status)) return status;
  }
  return std::nullopt;
}

}  // namespace gateway
