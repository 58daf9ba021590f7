// LoadConfigFile / LoadConfigString: YAML text -> GatewayConfig, then the semantic checks, every error collected.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "config/config_checks.h"
#include "config/gateway_config.h"
#include "config/yaml_fields.h"

namespace config {
namespace {

using detail::Field;

// Every key of the file, pointing into one GatewayConfig. Keep in step with the configuration reference in README.md.
struct Schema {
  explicit Schema(GatewayConfig& c)
      : log{{"level", &c.log.level}, {"format", &c.log.format}},
        http{{"max_body_bytes", &c.http.max_body_bytes},
             {"max_url_bytes", &c.http.max_url_bytes},
             {"read_timeout_seconds", &c.http.read_timeout_seconds},
             {"worker_threads", &c.http.worker_threads},
             {"io_threads", &c.http.io_threads}},
        scep{{"allow_single_des", &c.scep.allow_single_des},
             {"include_ca_cert_in_reply", &c.scep.include_ca_cert_in_reply}},
        challenge{{"mode", &c.challenge.mode}, {"secret", &c.challenge.secret}},
        ca{{"subject", &c.ca.subject}, {"key", &c.ca.key}, {"validity_days", &c.ca.validity_days}},
        certificate{{"validity_days", &c.certificate.validity_days},
                    {"key_usage", &c.certificate.key_usage},
                    {"extended_key_usage", &c.certificate.extended_key_usage},
                    {"crl_distribution_points", &c.certificate.crl_distribution_points},
                    {"ca_issuers_urls", &c.certificate.ca_issuers_urls}},
        store{{"path", &c.store.path}},
        tls{{"listen", &c.tls.listen}, {"cert_file", &c.tls.cert_file}, {"key_file", &c.tls.key_file}},
        metrics{{"enabled", &c.metrics.enabled}, {"listen", &c.metrics.listen}},
        root{{"listen", &c.listen}, {"data_dir", &c.data_dir}, {"log", &log},
             {"http", &http},       {"scep", &scep},             {"challenge", &challenge},
             {"ca", &ca},           {"certificate", &certificate}, {"store", &store},
             {"tls", &tls},         {"metrics", &metrics}} {}

  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  // Declared before `root`, which points at them.
  std::vector<Field> log, http, scep, challenge, ca, certificate, store, tls, metrics;
  std::vector<Field> root;
};

ConfigError FileError(const std::string& file_name, int line, std::string message) {
  return ConfigError{file_name, line, "", std::move(message)};
}

ConfigError SyntaxError(const std::string& file_name, const YAML::Mark& mark, const std::string& what) {
  if (mark.is_null()) return FileError(file_name, 0, "invalid YAML: " + what);
  return FileError(file_name, mark.line + 1,
                   "invalid YAML: " + what + " (column " + std::to_string(mark.column + 1) + ")");
}

void ReadDocuments(const std::string& yaml, const std::string& file_name, LoadResult& result) {
  const std::vector<YAML::Node> documents = YAML::LoadAll(yaml);
  if (documents.size() > 1) {
    result.errors.push_back(FileError(file_name, detail::LineOf(documents[1]),
                                      "expected a single YAML document, found " +
                                          std::to_string(documents.size())));
    return;
  }
  detail::KeyLines lines;
  if (!documents.empty()) {
    const Schema schema(result.config);
    detail::FieldReader reader(file_name, result.errors, lines);
    reader.ReadRoot(documents.front(), schema.root);
  }
  for (ConfigError& error : detail::CheckConfig(result.config, file_name, lines)) {
    result.errors.push_back(std::move(error));
  }
}

}  // namespace

LoadResult LoadConfigString(const std::string& yaml, const std::string& file_name) {
  LoadResult result;
  try {
    ReadDocuments(yaml, file_name, result);
  } catch (const YAML::Exception& e) {  // ParserException and the rest: one error, at yaml-cpp's mark
    result.config = GatewayConfig{};
    result.errors.assign(1, SyntaxError(file_name, e.mark, e.msg));
  } catch (const std::exception& e) {
    result.config = GatewayConfig{};
    result.errors.assign(1, FileError(file_name, 0, std::string("cannot load configuration: ") + e.what()));
  } catch (...) {
    result.config = GatewayConfig{};
    result.errors.assign(1, FileError(file_name, 0, "cannot load configuration: unknown error"));
  }
  return result;
}

LoadResult LoadConfigFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return LoadResult{{}, {FileError(path, 0, "cannot read file: it is a directory")}};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int saved = errno;
    const std::string reason = saved != 0 ? std::generic_category().message(saved) : "cannot open";
    return LoadResult{{}, {FileError(path, 0, "cannot read file: " + reason)}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return LoadResult{{}, {FileError(path, 0, "cannot read file: read error")}};
  return LoadConfigString(text.str(), path);
}

}  // namespace config
