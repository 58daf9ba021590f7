// Maps HTTP requests onto the SCEP service: any path, the operation from the `operation` parameter.
#pragma once

#include "gateway/http_server.h"
#include "gateway/scep_service.h"

namespace gateway {

// The handler the HTTP server calls. Logs one line per request.
[[nodiscard]] HttpHandler MakeScepHandler(ScepService& service);

}  // namespace gateway
