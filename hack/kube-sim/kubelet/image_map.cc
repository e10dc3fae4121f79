#include "hack/kube-sim/kubelet/image_map.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace shardwise::kubesim {
namespace {

Result<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& where) {
  std::vector<std::string> out;
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) return Status::InvalidArgument(where + " must be a list of strings");
  for (const auto& item : n) {
    if (!item.IsScalar()) return Status::InvalidArgument(where + " must be a list of strings");
    out.push_back(item.as<std::string>());
  }
  return out;
}

}  // namespace

std::string ImageMap::StripTag(const std::string& image) {
  std::string s = image.substr(0, image.find('@'));
  size_t slash = s.rfind('/');
  size_t colon = s.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    s = s.substr(0, colon);
  return s;
}

std::string ImageMap::Canonical(const std::string& image) {
  std::string s = StripTag(image);
  if (s.rfind("docker.io/", 0) == 0) s = s.substr(10);
  if (s.rfind("library/", 0) == 0) s = s.substr(8);
  return s;
}

Result<ImageMap> ImageMap::Parse(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("image map is not valid YAML: ") + e.what());
  }
  ImageMap map;
  if (!root || root.IsNull()) return map;
  if (!root.IsMap() || !root["images"] || !root["images"].IsMap())
    return Status::InvalidArgument("image map: want a top-level \"images:\" mapping");
  for (const auto& kv : root["images"]) {
    if (!kv.first.IsScalar()) return Status::InvalidArgument("image map: image names are strings");
    std::string name = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (!v.IsMap()) return Status::InvalidArgument("image map: " + name + " must be a mapping");
    for (const auto& field : v) {
      std::string key = field.first.as<std::string>();
      if (key != "command" && key != "args")
        return Status::InvalidArgument("image map: " + name + ": unknown field \"" + key + "\"");
    }
    ImageEntry e;
    auto cmd = StringList(v["command"], "image map: " + name + ".command");
    if (!cmd.ok()) return cmd.status();
    auto args = StringList(v["args"], "image map: " + name + ".args");
    if (!args.ok()) return args.status();
    e.command = std::move(cmd).value();
    e.args = std::move(args).value();
    if (e.command.empty())
      return Status::InvalidArgument("image map: " + name + ": command is required");
    map.images_[Canonical(name)] = std::move(e);
  }
  return map;
}

Result<ImageMap> ImageMap::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read image map " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto m = Parse(text.str());
  if (!m.ok()) return m.status().WithContext(path);
  return m;
}

std::optional<ImageEntry> ImageMap::Find(const std::string& image) const {
  auto it = images_.find(Canonical(image));
  if (it == images_.end()) return std::nullopt;
  return it->second;
}

}  // namespace shardwise::kubesim
