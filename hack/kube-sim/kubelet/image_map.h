// ImageMap: how the simulated kubelet turns a container image into a program. The
// simulator gets a YAML file (--image-map) mapping image names without tag or digest to
// the image's entrypoint and default arguments, as an image's ENTRYPOINT and CMD:
//
//   images:
//     shardwise/sample-app:
//       command: [/work/build/hack/sample-app/shardwise-sample-app]
//       args: ["--listen-address=$(POD_IP):8080"]
//
// "registry:5000/team/app:1.2@sha256:..." is looked up as "registry:5000/team/app";
// "docker.io/" and "library/" prefixes do not matter ("nginx" = "docker.io/library/nginx").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardwise::kubesim {

struct ImageEntry {
  std::vector<std::string> command;  // the entrypoint (replaced by a container's `command`)
  std::vector<std::string> args;     // default args (replaced by a container's `args`)
};

class ImageMap {
 public:
  static Result<ImageMap> Parse(const std::string& yaml_text);
  static Result<ImageMap> Load(const std::string& path);
  void Add(const std::string& image, ImageEntry entry) {
    images_[Canonical(image)] = std::move(entry);
  }
  std::optional<ImageEntry> Find(const std::string& image) const;
  // "quay.io/x/y:1@sha256:.." -> "quay.io/x/y".
  static std::string StripTag(const std::string& image);
  // StripTag without "docker.io/" and "library/": "docker.io/library/nginx:1" -> "nginx".
  static std::string Canonical(const std::string& image);

 private:
  std::map<std::string, ImageEntry> images_;
};

}  // namespace shardwise::kubesim
