#include "gateway/admin_routes.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <optional>
#include <regex>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/admin_actions.h"
#include "gateway/admin_auth.h"
#include "gateway/ndes_admin_page.h"
#include "gateway/query_string.h"

namespace gateway {
namespace {

using nlohmann::json;

constexpr std::string_view kNdesPrefix = "/certsrv/mscep_admin";
constexpr std::string_view kApiPrefix = "/api/v1";

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool UnderPrefix(std::string_view path, std::string_view prefix) {
  return path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/');
}

// IIS matches paths case-insensitively, and NDES clients were written against IIS.
bool IsNdesPath(std::string_view path) { return UnderPrefix(Lower(path), kNdesPrefix); }

bool IsNdesPagePath(std::string_view path) {
  const std::string p = Lower(path);
  // IIS serves the NDES admin page from mscep.dll behind the directory URL; scripts use either spelling.
  return p == kNdesPrefix || p == std::string(kNdesPrefix) + "/" || p == std::string(kNdesPrefix) + "/default.asp" ||
         p == std::string(kNdesPrefix) + "/mscep.dll";
}

std::int64_t SystemNow() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string Rfc3339(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json TimeJson(std::int64_t unix_seconds) { return unix_seconds == 0 ? json(nullptr) : json(Rfc3339(unix_seconds)); }

std::string Base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    if (n > 1) group |= std::uint32_t{bytes[i + 1]} << 8;
    if (n > 2) group |= bytes[i + 2];
    for (std::size_t k = 0; k < 4; ++k) out.push_back(k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 0x3F] : '=');
  }
  return out;
}

std::string CsrPem(const std::vector<std::uint8_t>& der) {
  const std::string b64 = Base64(der);
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

json RequestJson(const EnrollmentRequest& r) {
  return json{{"id", r.id},
              {"endpoint", r.endpoint},
              {"transaction_id", r.transaction_id},
              {"message_type", r.message_type},
              {"subject", r.subject},
              {"sans", r.sans},
              {"client_address", r.client_address},
              {"status", to_string(r.status)},
              {"reason", r.reason},
              {"decided_by", r.decided_by},
              {"created_at", TimeJson(r.created_at)},
              {"expires_at", TimeJson(r.expires_at)},
              {"decided_at", TimeJson(r.decided_at)},
              {"serial", r.serial},
              {"csr", CsrPem(r.csr)}};
}

json CertJson(const IssuedCert& c) {
  json j{{"serial", c.serial},
         {"issuer", c.issuer},
         {"subject", c.subject},
         {"sans", c.sans},
         {"not_before", TimeJson(c.not_before)},
         {"not_after", TimeJson(c.not_after)},
         {"issued_at", TimeJson(c.issued_at)},
         {"transaction_id", c.transaction_id},
         {"message_type", c.message_type},
         {"status", to_string(c.status)},
         {"revoked_at", TimeJson(c.revoked_at)},
         {"revocation_reason", nullptr}};
  if (c.status == CertStatus::Revoked) j["revocation_reason"] = RevocationReasonName(c.revocation_reason);
  return j;
}

// Every admin answer carries a password or the state of the CA: nothing here may be cached along the way.
HttpResponse WithNoStore(HttpResponse response) {
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse Json(int status, const json& body) {
  // Subjects come from CSRs and need not be valid UTF-8: replace bad bytes rather than throw.
  return WithNoStore({status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n",
                      {}});
}

HttpResponse JsonError(int status, const std::string& message) { return Json(status, json{{"error", message}}); }

HttpResponse NdesPage(int status, std::string utf16_page) {
  return WithNoStore({status, std::string(kNdesPageContentType), std::move(utf16_page), {}});
}

HttpResponse Text(int status, std::string text) { return WithNoStore({status, "text/plain", std::move(text), {}}); }

HttpResponse MethodNotAllowed(std::string_view allow, bool ndes) {
  HttpResponse r = ndes ? Text(405, "method not allowed\n") : JsonError(405, "method not allowed");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// Every field of the API's bodies is optional, so an empty body is an empty object.
std::optional<json> ParseObject(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

// False when `key` is present but not a string.
bool ReadString(const json& object, const char* key, std::string& out) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

std::optional<std::int64_t> ParseId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t id = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id > 0 ? std::optional<std::int64_t>(id) : std::nullopt;
}

std::vector<std::string> PathSegments(std::string_view rest) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= rest.size()) {
    const std::size_t slash = std::min(rest.find('/', start), rest.size());
    if (slash > start) segments.emplace_back(rest.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

bool IsValidPattern(const std::string& pattern) {
  try {
    std::regex compiled(pattern, std::regex::ECMAScript);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

}  // namespace

class AdminRoutes::Impl {
 public:
  Impl(AdminDependencies deps, std::function<std::int64_t()> clock)
      : deps_(std::move(deps)),
        clock_(clock ? std::move(clock) : std::function<std::int64_t()>(SystemNow)),
        users_(deps_.users_file) {}

  HttpResponse Handle(const HttpRequest& req) {
    const bool ndes = IsNdesPath(req.path);
    if (!ndes && !UnderPrefix(req.path, kApiPrefix)) return Text(404, "not found\n");
    if (deps_.require_tls && !req.tls) {
      spdlog::warn("admin: refused {} {} from {} over plain HTTP (admin.require_tls)", req.method, req.path,
                   req.remote_address);
      return ndes ? NdesPage(403, NdesNoPermissionPage())
                  : JsonError(403, "the admin API is served over HTTPS only (admin.require_tls)");
    }
    const auto user = Authenticate(req);
    if (!user) {
      HttpResponse r = ndes ? NdesPage(401, NdesNoPermissionPage()) : JsonError(401, "authentication required");
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"scep-gateway admin\"");
      return r;
    }
    const std::string actor = "admin:" + *user;
    return ndes ? HandleNdes(req, actor) : HandleApi(req, actor);
  }

 private:
  // The user name, or nullopt. Never logs the password.
  std::optional<std::string> Authenticate(const HttpRequest& req) {
    const std::string_view header = req.header("authorization");
    if (header.empty()) return std::nullopt;
    auto credentials = ParseBasicAuth(header);
    if (credentials && users_.Verify(credentials->user, credentials->password)) return credentials->user;
    spdlog::warn("admin: authentication failed for user '{}' from {}",
                 credentials ? credentials->user.substr(0, 64) : std::string("(unreadable)"), req.remote_address);
    return std::nullopt;
  }

  const AdminEndpoint* FindOneTimeEndpoint(const std::optional<std::string>& name) const {
    for (const auto& ep : deps_.endpoints) {
      if (ep.one_time && (!name || ep.name == *name)) return &ep;
    }
    return nullptr;
  }

  HttpResponse HandleNdes(const HttpRequest& req, const std::string& actor) {
    if (!IsNdesPagePath(req.path)) return Text(404, "not found\n");
    if (req.method != "GET") return MethodNotAllowed("GET", true);
    const auto name = QueryParam(req.query, "endpoint");
    const AdminEndpoint* ep = FindOneTimeEndpoint(name);
    if (ep == nullptr) {
      return Text(404, "no endpoint uses one-time challenge passwords (challenge.mode ndes-one-time)\n");
    }
    auto issued = IssueOneTimeChallenge(deps_.challenges, &deps_.audit, ep->name, ep->one_time_config, actor, "",
                                        clock_());
    if (!issued) return InternalError("issue a one-time challenge", issued.error());
    if (!*issued) {
      spdlog::warn("admin: one-time challenge for endpoint {} refused to {}: the password cache is full", ep->name,
                   actor);
      return NdesPage(200, NdesCacheFullPage());
    }
    spdlog::info("admin: one-time challenge for endpoint {} issued to {}", ep->name, actor);
    return NdesPage(200, NdesPasswordPage(ep->ca_thumbprint, (*issued)->password,
                                          ep->one_time_config.validity_minutes));
  }

  HttpResponse HandleApi(const HttpRequest& req, const std::string& actor) {
    const auto seg = PathSegments(std::string_view(req.path).substr(kApiPrefix.size()));
    const std::string& method = req.method;
    if (seg.size() == 1 && seg[0] == "challenges") {
      return method == "POST" ? PostChallenge(req, actor) : MethodNotAllowed("POST", false);
    }
    if (!seg.empty() && seg[0] == "requests") {
      if (seg.size() == 1) return method == "GET" ? ListRequests(req) : MethodNotAllowed("GET", false);
      if (seg.size() == 2) return method == "GET" ? GetRequest(seg[1]) : MethodNotAllowed("GET", false);
      if (seg.size() == 3 && (seg[2] == "approve" || seg[2] == "deny")) {
        return method == "POST" ? DecideRequest(req, seg[1], seg[2] == "approve", actor)
                                : MethodNotAllowed("POST", false);
      }
    }
    if (!seg.empty() && seg[0] == "certificates") {
      if (seg.size() == 1) return method == "GET" ? ListCertificates(req) : MethodNotAllowed("GET", false);
      if (seg.size() == 3 && seg[2] == "revoke") {
        return method == "POST" ? Revoke(req, seg[1], actor) : MethodNotAllowed("POST", false);
      }
    }
    return JsonError(404, "no such API resource");
  }

  HttpResponse PostChallenge(const HttpRequest& req, const std::string& actor) {
    const auto body = ParseObject(req.body);
    std::optional<std::string> name;
    std::string pattern;
    if (!body) return JsonError(400, "the body must be a JSON object");
    if (const auto it = body->find("endpoint"); it != body->end() && !it->is_null()) {
      name.emplace();
      if (!ReadString(*body, "endpoint", *name)) return JsonError(400, "endpoint must be a string");
    }
    if (!ReadString(*body, "subject_pattern", pattern)) return JsonError(400, "subject_pattern must be a string");
    if (!IsValidPattern(pattern)) {
      return JsonError(400, "subject_pattern is not a valid ECMAScript regular expression");
    }
    const AdminEndpoint* ep = FindOneTimeEndpoint(name);
    if (ep == nullptr) {
      return JsonError(404, name ? "no endpoint '" + *name + "' with one-time challenge passwords"
                                 : "no endpoint uses one-time challenge passwords");
    }
    auto issued = IssueOneTimeChallenge(deps_.challenges, &deps_.audit, ep->name, ep->one_time_config, actor,
                                        pattern, clock_());
    if (!issued) return InternalError("issue a one-time challenge", issued.error());
    if (!*issued) return JsonError(429, "the password cache is full");
    spdlog::info("admin: one-time challenge for endpoint {} issued to {} via the API", ep->name, actor);
    return Json(201, json{{"challenge", (*issued)->password},
                          {"expires_at", Rfc3339((*issued)->expires_at)},
                          {"endpoint", ep->name}});
  }

  HttpResponse ListRequests(const HttpRequest& req) {
    std::optional<RequestStatus> status;
    if (const auto text = QueryParam(req.query, "status"); text && !text->empty()) {
      status = ParseRequestStatus(*text);
      if (!status) return JsonError(400, "status must be one of pending, approved, denied, issued");
    }
    auto listed = deps_.requests.List(status);
    if (!listed) return InternalError("list enrollment requests", listed.error());
    json out = json::array();
    for (const auto& r : *listed) out.push_back(RequestJson(r));
    return Json(200, out);
  }

  HttpResponse GetRequest(const std::string& id_text) {
    const auto id = ParseId(id_text);
    if (!id) return JsonError(404, "no request " + id_text);
    auto found = deps_.requests.FindById(*id);
    if (!found) return InternalError("read an enrollment request", found.error());
    if (!found->has_value()) return JsonError(404, "no request " + id_text);
    return Json(200, RequestJson(**found));
  }

  HttpResponse DecideRequest(const HttpRequest& req, const std::string& id_text, bool approve,
                             const std::string& actor) {
    const auto body = ParseObject(req.body);
    if (!body) return JsonError(400, "the body must be a JSON object");
    std::string reason = "denied by an administrator";
    if (!ReadString(*body, "reason", reason)) return JsonError(400, "reason must be a string");
    const auto id = ParseId(id_text);
    if (!id) return JsonError(404, "no request " + id_text);
    const std::int64_t now = clock_();
    auto decided = approve ? ApproveRequest(deps_.requests, deps_.audit, *id, actor, now)
                           : DenyRequest(deps_.requests, deps_.audit, *id, reason, actor, now);
    if (!decided) return InternalError("decide an enrollment request", decided.error());
    switch (decided->outcome) {
      case DecisionOutcome::Decided: return Json(200, RequestJson(decided->request));
      case DecisionOutcome::Unknown: return JsonError(404, "no request " + id_text);
      case DecisionOutcome::NotPending: break;
    }
    const std::string status = to_string(decided->request.status);
    return Json(409, json{{"error", "request " + id_text + " is not pending (status " + status + ")"},
                          {"status", status}});
  }

  HttpResponse ListCertificates(const HttpRequest& req) {
    const auto status = QueryParam(req.query, "status");
    if (status && !status->empty() && *status != "issued" && *status != "revoked") {
      return JsonError(400, "status must be issued or revoked");
    }
    auto listed = deps_.certs.List();
    if (!listed) return InternalError("list certificates", listed.error());
    json out = json::array();
    for (const auto& c : *listed) {
      if (!status || status->empty() || to_string(c.status) == *status) out.push_back(CertJson(c));
    }
    return Json(200, out);
  }

  HttpResponse Revoke(const HttpRequest& req, const std::string& serial, const std::string& actor) {
    const auto body = ParseObject(req.body);
    if (!body) return JsonError(400, "the body must be a JSON object");
    std::string reason = "unspecified";
    if (!ReadString(*body, "reason", reason)) return JsonError(400, "reason must be a string");
    auto revoked = RevokeCertificate(deps_.certs, deps_.audit, serial, reason, actor, clock_());
    if (!revoked) return InternalError("revoke a certificate", revoked.error());
    switch (revoked->outcome) {
      case RevokeOutcome::Revoked:
        if (deps_.on_revoked) deps_.on_revoked();
        return Json(200, CertJson(revoked->cert));
      case RevokeOutcome::AlreadyRevoked:
        return Json(409, json{{"error", "certificate " + revoked->cert.serial + " is already revoked"},
                              {"certificate", CertJson(revoked->cert)}});
      case RevokeOutcome::UnknownSerial: return JsonError(404, "no certificate with serial " + serial);
      case RevokeOutcome::UnknownReason: break;
    }
    return JsonError(400, "unknown revocation reason '" + reason + "'; use one of " + RevocationReasonNames());
  }

  static HttpResponse InternalError(std::string_view what, const scep::Error& error) {
    spdlog::error("admin: cannot {}: {}", what, error.ToString());
    return JsonError(500, "internal error");
  }

  AdminDependencies deps_;
  std::function<std::int64_t()> clock_;
  UserDirectory users_;
};

AdminRoutes::AdminRoutes(AdminDependencies deps, std::function<std::int64_t()> clock)
    : impl_(std::make_unique<Impl>(std::move(deps), std::move(clock))) {}
AdminRoutes::~AdminRoutes() = default;

bool AdminRoutes::IsAdminPath(std::string_view path) {
  return IsNdesPath(path) || UnderPrefix(path, kApiPrefix);
}

HttpResponse AdminRoutes::Handle(const HttpRequest& request) {
  // The HTTP server would answer 500 anyway; catching here lets the log say where it came from.
  try {
    return impl_->Handle(request);
  } catch (const std::exception& e) {
    spdlog::error("admin: {} {} failed: {}", request.method, request.path, e.what());
    return JsonError(500, "internal error");
  }
}

}  // namespace gateway
