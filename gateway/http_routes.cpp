#include "gateway/http_routes.h"

#include <chrono>
#include <ctime>


#include "gateway/message_param.h"
#include "gateway/query_string.h"
#include "gateway/request_log.h"

namespace gateway {
namespace {

// Operation names as clients send them, matched without regard to case (liberal in what we accept) and
// returned in the RFC's spelling, so that logs and metrics see one name per operation.
std::string CanonicalOperation(std::string_view op) {
  for (std::string_view name : {"GetCACaps", "GetCACert", "PKIOperation", "GetNextCACert"}) {
    bool same = op.size() == name.size();
    for (std::size_t i = 0; same && i < op.size(); ++i) {
      same = std::tolower(static_cast<unsigned char>(op[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return std::string(name);
  }
  return std::string(op.substr(0, 40));
}

HttpResponse Text(int status, std::string body) { return {status, "text/plain", std::move(body) + "\n", {}}; }

HttpResponse Bytes(const scep::Bytes& body, std::string content_type) {
  return {200, std::move(content_type), std::string(body.begin(), body.end()), {}};
}

struct RequestLog {
  std::string operation;
  PkiOutcome pki;
};

std::optional<scep::Bytes> PkiMessageBytes(const HttpRequest& req) {
  if (req.method == "POST") return DecodePostBody(req.body);
  auto message = QueryParam(req.query, "message");
  if (!message) return std::nullopt;
  return DecodeLenientBase64(*message);
}

HttpResponse PkiOperation(ScepService& service, const HttpRequest& req, RequestLog& log) {
  auto der = PkiMessageBytes(req);
  if (!der || der->empty()) {
    log.pki.status = "rejected";
    log.pki.detail = req.method == "POST" ? "empty or undecodable body" : "missing or undecodable message parameter";
    return Text(400, "bad request: " + log.pki.detail);
  }
  log.pki = service.PkiOperation(*der, req.remote_address);
  if (log.pki.http_status == 400) return Text(400, "bad request: not a SCEP pkiMessage (" + log.pki.detail + ")");
  if (log.pki.http_status != 200) return Text(500, "internal error");
  return Bytes(log.pki.reply, scep::kPkiMessageContentType);
}

HttpResponse Health(ScepService& service, RequestLog& log) {
  log.operation = "healthz";
  auto health = service.Health();
  return health ? Text(200, "ok") : Text(503, "unhealthy: " + health.error().detail);
}

HttpResponse Metrics(ScepService& service, const GatewayMetrics& metrics, RequestLog& log) {
  log.operation = "metrics";
  auto count = service.StoredCertificates();
  const double expiry = static_cast<double>(service.CaNotAfter() - static_cast<std::int64_t>(std::time(nullptr)));
  return {200, "text/plain; version=0.0.4", metrics.Render(count ? *count : -1, expiry), {}};
}

bool PathUnder(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return true;
  return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

const ScepRoute* EndpointNamed(const RouteTable& routes, std::string_view name) {
  for (const ScepRoute& route : routes.endpoints) {
    if (route.name == name) return &route;
  }
  return nullptr;
}

HttpResponse Crl(const RouteTable& routes, const HttpRequest& req, RequestLog& log) {
  log.operation = "CRL";
  std::string_view name = std::string_view(req.path).substr(5);  // after "/crl/"
  if (!name.ends_with(".crl")) return Text(404, "not found: CRLs are at /crl/<ca>.crl");
  name.remove_suffix(4);
  for (const ScepRoute& route : routes.endpoints) {
    if (route.ca_name != name) continue;
    auto der = route.service->CurrentCrl();
    if (!der) return Text(503, "CRL unavailable: " + der.error().detail);
    return Bytes(*der, "application/pkix-crl");
  }
  return Text(404, "not found: no CA named '" + std::string(name) + "'");
}

HttpResponse Route(const RouteTable& routes, const HttpRequest& req, RequestLog& log) {
  ScepService& first = *routes.endpoints.front().service;
  if (req.path == "/healthz") return Health(first, log);
  if (routes.admin != nullptr && AdminRoutes::IsAdminPath(req.path)) {
    log.operation = "admin";
    return routes.admin->Handle(req);
  }
  if (req.path.starts_with("/crl/") && req.method == "GET") return Crl(routes, req, log);
  if (req.method != "GET" && req.method != "POST") return {405, "text/plain", "method not allowed\n", {{"Allow", "GET, POST"}}};
  auto raw = QueryParam(req.query, "operation");
  // A POST without an operation can only be a PKIOperation (RFC 8894 says to ignore it on POST anyway).
  if (!raw && req.method == "POST") raw = "PKIOperation";
  if (!raw) return Text(400, "bad request: missing operation parameter");
  const std::string op = CanonicalOperation(*raw);
  log.operation = op;
  const ScepRoute* route = &SelectEndpoint(routes, req.path);
  if (op == "GetCACert" || op == "GetCACaps") {
    // The CA-name parameter may select an endpoint; any other value is ignored, as RFC 8894 asks.
    if (auto message = QueryParam(req.query, "message")) {
      if (const ScepRoute* named = EndpointNamed(routes, *message)) route = named;
    }
  }
  ScepService& service = *route->service;
  if (op == "GetCACaps") return {200, scep::kCaCapsContentType, service.CaCaps(), {}};
  if (op == "GetCACert") return Bytes(service.CaCert().body, service.CaCert().content_type);
  if (op == "PKIOperation") return PkiOperation(service, req, log);
  if (op == "GetNextCACert") return Text(404, "no next CA certificate: no CA rollover is in progress");
  return Text(400, "bad request: unknown operation '" + op + "'");
}

void Log(const HttpRequest& req, const HttpResponse& resp, const RequestLog& log, double ms) {
  const PkiOutcome& p = log.pki;
  LogRequest({req.remote_address, req.method, log.operation, resp.status, p.message_type, p.transaction_id,
              p.status.empty() ? (resp.status == 200 ? "ok" : "rejected") : p.status, p.fail_info, p.subject,
              p.serial, p.detail, ms});
}

void Observe(GatewayMetrics& metrics, const HttpResponse& resp, const RequestLog& log, double ms) {
  const PkiOutcome& p = log.pki;
  metrics.ObserveRequest(log.operation, p.status.empty() ? (resp.status == 200 ? "ok" : "rejected") : p.status,
                         ms / 1000.0);
  if (p.message_type == "PKCSReq" || p.message_type == "RenewalReq") metrics.ObserveEnrollment(p.status, p.fail_info);
}

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const ScepRoute& SelectEndpoint(const RouteTable& routes, std::string_view path) {
  const ScepRoute* best = &routes.endpoints.front();
  std::size_t best_length = 0;
  for (const ScepRoute& route : routes.endpoints) {
    if (PathUnder(path, route.path) && route.path.size() > best_length) {
      best = &route;
      best_length = route.path.size();
    }
  }
  return *best;
}

HttpHandler MakeScepHandler(RouteTable routes, GatewayMetrics& metrics, bool serve_metrics) {
  return [routes = std::move(routes), &metrics, serve_metrics](const HttpRequest& req) {
    const auto start = std::chrono::steady_clock::now();
    RequestLog log;
    if (serve_metrics && req.path == "/metrics") return Metrics(*routes.endpoints.front().service, metrics, log);
    HttpResponse resp = Route(routes, req, log);
    const double ms = MillisecondsSince(start);
    Observe(metrics, resp, log, ms);
    if (req.path != "/healthz") Log(req, resp, log, ms);  // probes every few seconds would drown the log
    return resp;
  };
}

HttpHandler MakeMetricsHandler(ScepService& service, GatewayMetrics& metrics) {
  return [&service, &metrics](const HttpRequest& req) {
    RequestLog log;
    if (req.path == "/metrics") return Metrics(service, metrics, log);
    if (req.path == "/healthz") return Health(service, log);
    return Text(404, "not found: the admin listener serves /metrics and /healthz");
  };
}

}  // namespace gateway
