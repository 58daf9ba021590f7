// Maps HTTP requests onto the SCEP service: any path, the operation from the `operation` parameter.
#pragma once

#include "gateway/http_server.h"
#include "gateway/metrics.h"
#include "gateway/scep_service.h"

namespace gateway {

// The handler of a SCEP listener. Logs one line per request and counts it in `metrics`; answers /metrics too
// when `serve_metrics` (metrics on the SCEP listener rather than on a separate admin listener).
[[nodiscard]] HttpHandler MakeScepHandler(ScepService& service, GatewayMetrics& metrics, bool serve_metrics);

// The handler of the separate admin listener: /metrics and /healthz only.
[[nodiscard]] HttpHandler MakeAdminHandler(ScepService& service, GatewayMetrics& metrics);

}  // namespace gateway
