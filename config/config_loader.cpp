// LoadConfigFile / LoadConfigString: YAML text -> GatewayConfig, then the semantic checks, every error collected.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <yaml-cpp/yaml.h>

#include "config/config_checks.h"
#include "config/config_schema.h"
#include "config/gateway_config.h"
#include "config/yaml_fields.h"

namespace config {
namespace {

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
    detail::Schema schema(result.config);  // not const: it grows while reading optional mappings and lists
    detail::FieldReader reader(file_name, result.errors, lines);
    reader.ReadRoot(documents.front(), schema.Root());
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
