#include "gateway/http_routes.h"

#include <chrono>


#include "gateway/message_param.h"
#include "gateway/query_string.h"
#include "gateway/request_log.h"

namespace gateway {
namespace {

// Operation names as clients send them; matched without regard to case to be liberal in what we accept.
bool Is(std::string_view op, std::string_view name) {
  if (op.size() != name.size()) return false;
  for (std::size_t i = 0; i < op.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(op[i])) != std::tolower(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
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
  log.pki = service.PkiOperation(*der);
  if (log.pki.http_status == 400) return Text(400, "bad request: not a SCEP pkiMessage (" + log.pki.detail + ")");
  if (log.pki.http_status != 200) return Text(500, "internal error");
  return Bytes(log.pki.reply, scep::kPkiMessageContentType);
}

HttpResponse Route(ScepService& service, const HttpRequest& req, RequestLog& log) {
  if (req.path == "/healthz") {
    log.operation = "healthz";
    auto health = service.Health();
    return health ? Text(200, "ok") : Text(503, "unhealthy: " + health.error().detail);
  }
  if (req.method != "GET" && req.method != "POST") return {405, "text/plain", "method not allowed\n", {{"Allow", "GET, POST"}}};
  auto op = QueryParam(req.query, "operation");
  // A POST without an operation can only be a PKIOperation (RFC 8894 says to ignore it on POST anyway).
  if (!op && req.method == "POST") op = "PKIOperation";
  log.operation = op.value_or("");
  if (!op) return Text(400, "bad request: missing operation parameter");
  if (Is(*op, "GetCACaps")) return {200, scep::kCaCapsContentType, service.CaCaps(), {}};
  if (Is(*op, "GetCACert")) return Bytes(service.CaCert().body, service.CaCert().content_type);
  if (Is(*op, "PKIOperation")) return PkiOperation(service, req, log);
  if (Is(*op, "GetNextCACert")) return Text(404, "no next CA certificate: no CA rollover is in progress");
  return Text(400, "bad request: unknown operation '" + op->substr(0, 40) + "'");
}

void Log(const HttpRequest& req, const HttpResponse& resp, const RequestLog& log, double ms) {
  const PkiOutcome& p = log.pki;
  LogRequest({req.remote_address, req.method, log.operation, resp.status, p.message_type, p.transaction_id,
              p.status.empty() ? (resp.status == 200 ? "ok" : "rejected") : p.status, p.fail_info, p.subject,
              p.serial, p.detail, ms});
}

}  // namespace

HttpHandler MakeScepHandler(ScepService& service) {
  return [&service](const HttpRequest& req) {
    const auto start = std::chrono::steady_clock::now();
    RequestLog log;
    HttpResponse resp = Route(service, req, log);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (req.path != "/healthz") Log(req, resp, log, ms);
    return resp;
  };
}

}  // namespace gateway
