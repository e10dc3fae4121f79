#include "hack/kube-sim/kubelet/env.h"

#include <cctype>
#include <cmath>

#include "common/base64.h"
#include "common/quantity.h"

namespace shardwise::kubesim {
namespace {

std::string Str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string Upper(const std::string& name) {
  std::string out;
  for (char c : name) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

// metadata.labels['key'] / metadata.annotations['key'].
std::optional<std::string> MapField(const json& md, const std::string& path, const char* field) {
  std::string prefix = std::string("metadata.") + field + "['";
  if (path.rfind(prefix, 0) != 0 || path.size() < prefix.size() + 2 ||
      path.substr(path.size() - 2) != "']")
    return std::nullopt;
  std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
  const json& m = md.value(field, json::object());
  return m.is_object() ? Str(m.value(key, json(""))) : "";
}

}  // namespace

Result<std::string> PodFieldRef(const json& pod, const std::string& path) {
  const json& md = pod.value("metadata", json::object());
  const json& spec = pod.value("spec", json::object());
  const json& status = pod.value("status", json::object());
  if (path == "metadata.name") return Str(md.value("name", json("")));
  if (path == "metadata.namespace") return Str(md.value("namespace", json("")));
  if (path == "metadata.uid") return Str(md.value("uid", json("")));
  if (path == "spec.nodeName") return Str(spec.value("nodeName", json("")));
  if (path == "spec.serviceAccountName") return Str(spec.value("serviceAccountName", json("")));
  if (path == "status.podIP") return Str(status.value("podIP", json("")));
  if (path == "status.hostIP") return Str(status.value("hostIP", json("")));
  if (path == "status.podIPs" || path == "status.hostIPs") {
    std::string out;
    for (const auto& ip : status.value(path.substr(7), json::array()))
      out += (out.empty() ? "" : ",") + Str(ip.value("ip", json("")));
    return out;
  }
  if (auto v = MapField(md, path, "labels")) return *v;
  if (auto v = MapField(md, path, "annotations")) return *v;
  return Status::InvalidArgument("unsupported fieldRef fieldPath \"" + path + "\"");
}

namespace {

Result<std::string> ResourceRef(const json& container, const json& ref, const EnvSources& src) {
  std::string resource = ref.value("resource", "");
  auto dot = resource.find('.');
  if (dot == std::string::npos)
    return Status::InvalidArgument("unsupported resourceFieldRef resource \"" + resource + "\"");
  std::string kind = resource.substr(0, dot), name = resource.substr(dot + 1);
  const json& res = container.value("resources", json::object());
  json v = res.value(kind, json::object()).value(name, json());
  if (kind == "requests" && v.is_null())
    v = res.value("limits", json::object()).value(name, json());
  double value;
  if (v.is_null()) {
    if (kind == "requests") {
      value = 0;
    } else if (name == "cpu") {
      value = src.node_cpu;
    } else if (name == "memory") {
      value = src.node_memory;
    } else {
      value = 0;
    }
  } else {
    auto q = ParseQuantity(Str(v));
    if (!q.ok()) return Status::InvalidArgument("invalid quantity \"" + Str(v) + "\"");
    value = static_cast<double>(q->milli) / 1000;
  }
  double divisor = 1;
  if (ref.contains("divisor")) {
    auto d = ParseQuantity(Str(ref["divisor"]));
    if (!d.ok() || d->milli <= 0)
      return Status::InvalidArgument("invalid divisor \"" + Str(ref["divisor"]) + "\"");
    divisor = static_cast<double>(d->milli) / 1000;
  }
  double out = std::ceil(value / divisor - 1e-9);
  if (name == "cpu" && value > 0 && out < 1) out = 1;
  return std::to_string(static_cast<long long>(out));
}

Result<std::string> KeyRef(const json& ref, bool secret, const EnvSources& src, bool* skip,
                           const std::string& ns) {
  std::string name = ref.value("name", "");
  std::string key = ref.value("key", "");
  bool optional = ref.value("optional", false);
  auto obj = secret ? src.secret(name) : src.config_map(name);
  const char* what = secret ? "secret" : "configmap";
  if (!obj) {
    if (optional) {
      *skip = true;
      return std::string();
    }
    return Status::InvalidArgument(std::string(what) + " \"" + name + "\" not found");
  }
  const json& data = obj->value("data", json::object());
  if (data.is_object() && data.contains(key)) {
    std::string v = Str(data[key]);
    if (secret) {
      auto decoded = Base64Decode(v);
      if (!decoded.ok()) return Status::InvalidArgument("secret " + name + " has invalid data");
      return decoded.value();
    }
    return v;
  }
  const json& bin = obj->value("binaryData", json::object());
  if (!secret && bin.is_object() && bin.contains(key)) {
    auto decoded = Base64Decode(Str(bin[key]));
    if (decoded.ok()) return decoded.value();
  }
  if (optional) {
    *skip = true;
    return std::string();
  }
  return Status::InvalidArgument("couldn't find key " + key + " in " +
                                 (secret ? std::string("Secret") : std::string("ConfigMap")) + " " +
                                 ns + "/" + name);
}

}  // namespace

std::string ExpandVars(const std::string& in, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 == in.size()) {
      out += in[i];
      continue;
    }
    char next = in[i + 1];
    if (next == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (next == '(') {
      size_t close = in.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = in.substr(i + 2, close - i - 2);
        auto it = vars.find(name);
        if (it != vars.end()) {
          out += it->second;
        } else {
          out += in.substr(i, close - i + 1);
        }
        i = close;
        continue;
      }
    }
    out += '$';
  }
  return out;
}

EnvList ServiceLinkEnv(const std::vector<json>& services) {
  EnvList out;
  for (const auto& svc : services) {
    const json& spec = svc.value("spec", json::object());
    std::string ip = Str(spec.value("clusterIP", json("")));
    if (ip.empty() || ip == "None") continue;
    const json& ports = spec.value("ports", json::array());
    if (!ports.is_array() || ports.empty()) continue;
    std::string name = Upper(svc["metadata"].value("name", ""));
    out.emplace_back(name + "_SERVICE_HOST", ip);
    out.emplace_back(name + "_SERVICE_PORT", Str(ports[0].value("port", json(0))));
    for (const auto& p : ports) {
      if (!p.value("name", "").empty())
        out.emplace_back(name + "_SERVICE_PORT_" + Upper(p["name"]), Str(p.value("port", json(0))));
    }
    std::string proto0 = ports[0].value("protocol", "TCP");
    for (auto& c : proto0) c = static_cast<char>(std::tolower(c));
    out.emplace_back(name + "_PORT",
                     proto0 + "://" + ip + ":" + Str(ports[0].value("port", json(0))));
    for (const auto& p : ports) {
      std::string port = Str(p.value("port", json(0)));
      std::string proto = p.value("protocol", "TCP");
      std::string lower = proto;
      for (auto& c : lower) c = static_cast<char>(std::tolower(c));
      std::string prefix = name + "_PORT_" + port + "_" + proto;
      out.emplace_back(prefix, lower + "://" + ip + ":" + port);
      out.emplace_back(prefix + "_PROTO", lower);
      out.emplace_back(prefix + "_PORT", port);
      out.emplace_back(prefix + "_ADDR", ip);
    }
  }
  return out;
}

Result<EnvList> BuildContainerEnv(const json& pod, const json& container, const EnvSources& src) {
  const std::string ns = pod["metadata"].value("namespace", "");
  EnvList env;
  std::map<std::string, std::string> vars;
  auto set = [&](const std::string& k, const std::string& v) {
    if (vars.count(k)) {
      for (auto& [ek, ev] : env)
        if (ek == k) ev = v;
    } else {
      env.emplace_back(k, v);
    }
    vars[k] = v;
  };
  // Service links first in the expansion scope, as the kubelet's mapping function sees them.
  std::map<std::string, std::string> service_vars;
  EnvList service_env;
  if (pod.value("spec", json::object()).value("enableServiceLinks", true))
    service_env = ServiceLinkEnv(src.services);
  if (src.api_port > 0) {
    std::string host = src.api_host, port = std::to_string(src.api_port);
    for (auto& kv : EnvList{{"KUBERNETES_SERVICE_HOST", host},
                            {"KUBERNETES_SERVICE_PORT", port},
                            {"KUBERNETES_SERVICE_PORT_HTTPS", port},
                            {"KUBERNETES_PORT", "tcp://" + host + ":" + port},
                            {"KUBERNETES_PORT_443_TCP", "tcp://" + host + ":" + port},
                            {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
                            {"KUBERNETES_PORT_443_TCP_PORT", port},
                            {"KUBERNETES_PORT_443_TCP_ADDR", host}})
      service_env.push_back(kv);
  }
  for (const auto& [k, v] : service_env) service_vars[k] = v;

  for (const auto& from : container.value("envFrom", json::array())) {
    std::string prefix = from.value("prefix", "");
    bool secret = from.contains("secretRef");
    const json& ref = secret ? from["secretRef"] : from.value("configMapRef", json::object());
    std::string name = ref.value("name", "");
    auto obj = secret ? src.secret(name) : src.config_map(name);
    if (!obj) {
      if (ref.value("optional", false)) continue;
      return Status::InvalidArgument(std::string(secret ? "secret" : "configmap") + " \"" + name +
                                     "\" not found");
    }
    const json& data = obj->value("data", json::object());
    if (!data.is_object()) continue;
    for (auto& [k, v] : data.items()) {
      std::string value = Str(v);
      if (secret) {
        auto d = Base64Decode(value);
        if (!d.ok()) continue;
        value = d.value();
      }
      set(prefix + k, value);
    }
  }
  for (const auto& e : container.value("env", json::array())) {
    std::string name = e.value("name", "");
    if (name.empty()) continue;
    if (e.contains("valueFrom") && e["valueFrom"].is_object()) {
      const json& vf = e["valueFrom"];
      Result<std::string> v = std::string();
      bool skip = false;
      if (vf.contains("fieldRef")) {
        v = PodFieldRef(pod, vf["fieldRef"].value("fieldPath", ""));
      } else if (vf.contains("resourceFieldRef")) {
        v = ResourceRef(container, vf["resourceFieldRef"], src);
      } else if (vf.contains("configMapKeyRef")) {
        v = KeyRef(vf["configMapKeyRef"], false, src, &skip, ns);
      } else if (vf.contains("secretKeyRef")) {
        v = KeyRef(vf["secretKeyRef"], true, src, &skip, ns);
      }
      if (!v.ok()) return v.status();
      if (!skip) set(name, v.value());
      continue;
    }
    std::map<std::string, std::string> scope = service_vars;
    for (const auto& [k, val] : vars) scope[k] = val;
    set(name, ExpandVars(Str(e.value("value", json(""))), scope));
  }
  for (const auto& [k, v] : service_env)
    if (!vars.count(k)) {
      env.emplace_back(k, v);
      vars[k] = v;
    }
  return env;
}

Result<std::vector<std::string>> BuildArgv(const json& container, const ImageMap& images,
                                           const EnvList& env) {
  std::map<std::string, std::string> vars(env.begin(), env.end());
  std::vector<std::string> command, args;
  // The image map is the registry: an image it does not know cannot be pulled, even when
  // the container names its own command.
  auto image = images.Find(container.value("image", ""));
  if (!image)
    return Status::InvalidArgument("image \"" + container.value("image", "") +
                                   "\" is not in the simulator's image map");
  command = image->command;
  args = image->args;
  auto strings = [](const json& v) {
    std::vector<std::string> out;
    if (v.is_array())
      for (const auto& s : v) out.push_back(Str(s));
    return out;
  };
  bool has_command = container.contains("command") && container["command"].is_array() &&
                     !container["command"].empty();
  if (has_command) {
    command = strings(container["command"]);
    args.clear();  // a command override drops the image's default args
  }
  if (container.contains("args") && container["args"].is_array()) args = strings(container["args"]);
  if (command.empty()) return Status::InvalidArgument("no command specified");
  std::vector<std::string> argv;
  for (const auto& c : command) argv.push_back(ExpandVars(c, vars));
  for (const auto& a : args) argv.push_back(ExpandVars(a, vars));
  return argv;
}

}  // namespace shardwise::kubesim
