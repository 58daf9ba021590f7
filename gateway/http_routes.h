// Maps HTTP requests onto the SCEP endpoints, the admin pages and APIs, and the CRLs. For SCEP any path works; the
// endpoint is the one with the longest matching path prefix, and the operation comes from `operation`.
#pragma once

#include <string>
#include <vector>

#include "gateway/admin_routes.h"
#include "gateway/http_server.h"
#include "gateway/metrics.h"
#include "gateway/scep_service.h"

namespace gateway {

struct ScepRoute {
  std::string name;     // GetCACert?message=NAME selects this endpoint whatever the path
  std::string path;     // "/" or "/a/b": matches the path itself and everything below it
  std::string ca_name;  // its CRL is served at /crl/<ca_name>.crl
  ScepService* service = nullptr;
};

struct RouteTable {
  std::vector<ScepRoute> endpoints;  // non-empty; the first answers paths no endpoint matches
  AdminRoutes* admin = nullptr;      // /certsrv/mscep_admin/ and /api/v1/; null = not served here
};

// The handler of a SCEP listener. Logs one line per request and counts it in `metrics`; answers /metrics too
// when `serve_metrics` (metrics on the SCEP listener rather than on a separate admin listener).
[[nodiscard]] HttpHandler MakeScepHandler(RouteTable routes, GatewayMetrics& metrics, bool serve_metrics);

// The handler of the separate metrics listener: /metrics and /healthz only.
[[nodiscard]] HttpHandler MakeMetricsHandler(ScepService& service, GatewayMetrics& metrics);

// The endpoint for a request path (longest prefix), or the first one. Exposed for tests.
[[nodiscard]] const ScepRoute& SelectEndpoint(const RouteTable& routes, std::string_view path);

}  // namespace gateway
