#include "hack/kube-sim/kubelet/volumes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/base64.h"
#include "hack/kube-sim/kubelet/env.h"
#include "hack/kube-sim/time_util.h"

namespace shardwise::kubesim {
namespace fs = std::filesystem;
namespace {

std::string Str(const json& v) { return v.is_string() ? v.get<std::string>() : ""; }

int ModeOf(const json& v, int dflt) { return v.is_number_integer() ? v.get<int>() : dflt; }

// "key=\"value\"" lines, sorted, as the downward API renders label/annotation maps.
std::string RenderMap(const json& m) {
  std::string out;
  if (!m.is_object()) return out;
  for (auto& [k, v] : m.items()) out += k + "=\"" + Str(v) + "\"\n";
  if (!out.empty()) out.pop_back();
  return out;
}

using FileMap = std::map<std::string, std::pair<std::string, int>>;

// configMap/secret content filtered by `items`.
Status AddKeyed(const json& source, bool secret, const json& obj, int default_mode,
                const std::string& prefix, FileMap& files) {
  std::map<std::string, std::string> data;
  for (const char* field : {"data", "binaryData"}) {
    const json& d = obj.value(field, json::object());
    if (!d.is_object()) continue;
    for (auto& [k, v] : d.items()) {
      bool encoded = secret || std::string(field) == "binaryData";
      if (encoded) {
        auto decoded = Base64Decode(Str(v));
        if (!decoded.ok()) continue;
        data[k] = decoded.value();
      } else {
        data[k] = Str(v);
      }
    }
  }
  const json& items = source.value("items", json::array());
  if (items.is_array() && !items.empty()) {
    for (const auto& item : items) {
      std::string key = item.value("key", "");
      auto it = data.find(key);
      if (it == data.end()) {
        if (source.value("optional", false)) continue;
        return Status::NotFound("configmap references non-existent config key: " + key);
      }
      files[prefix + item.value("path", key)] = {it->second,
                                                 ModeOf(item.value("mode", json()), default_mode)};
    }
    return Status::OK();
  }
  for (auto& [k, v] : data) files[prefix + k] = {v, default_mode};
  return Status::OK();
}

Status AddDownward(const json& pod, const json& items, int default_mode, const std::string& prefix,
                   FileMap& files) {
  if (!items.is_array()) return Status::OK();
  const json& md = pod.value("metadata", json::object());
  for (const auto& item : items) {
    std::string path = item.value("path", "");
    if (path.empty()) continue;
    std::string field = item.value("fieldRef", json::object()).value("fieldPath", "");
    std::string value;
    if (field == "metadata.labels") {
      value = RenderMap(md.value("labels", json::object()));
    } else if (field == "metadata.annotations") {
      value = RenderMap(md.value("annotations", json::object()));
    } else if (!field.empty()) {
      auto v = PodFieldRef(pod, field);
      if (!v.ok()) return v.status();
      value = v.value();
    } else {
      continue;  // resourceFieldRef in volumes is not emulated
    }
    files[prefix + path] = {value, ModeOf(item.value("mode", json()), default_mode)};
  }
  return Status::OK();
}

}  // namespace

json PodVolumes::DefaultServiceAccountVolume(const json& pod, const std::optional<json>& account) {
  const json& spec = pod.value("spec", json::object());
  if (spec.contains("automountServiceAccountToken") &&
      spec["automountServiceAccountToken"].is_boolean()) {
    if (!spec["automountServiceAccountToken"].get<bool>()) return nullptr;
  } else if (account && account->contains("automountServiceAccountToken") &&
             (*account)["automountServiceAccountToken"] == json(false)) {
    return nullptr;
  }
  return {
      {"name", kServiceAccountVolume},
      {"projected",
       {{"defaultMode", 420},
        {"sources",
         {{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
          {{"configMap",
            {{"name", "kube-root-ca.crt"}, {"items", {{{"key", "ca.crt"}, {"path", "ca.crt"}}}}}}},
          {{"downwardAPI",
            {{"items",
              {{{"path", "namespace"},
                {"fieldRef",
                 {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}}}}}}}}}}}}}};
}

Result<FileMap> PodVolumes::Files(const json& pod, const json& volume, const VolumeContext& ctx) {
  FileMap files;
  const std::string vname = volume.value("name", "");
  const json& md = pod.value("metadata", json::object());
  auto keyed = [&](const json& source, bool secret, int mode, const std::string& prefix) -> Status {
    std::string name =
        secret ? source.value("secretName", source.value("name", "")) : source.value("name", "");
    auto obj = ctx.get(secret ? "secrets" : "configmaps", name);
    if (!obj && !secret && name == "kube-root-ca.crt") {
      obj = json{{"data", {{"ca.crt", ctx.ca_pem}}}};  // published in every namespace
    }
    if (!obj) {
      if (source.value("optional", false)) return Status::OK();
      return Status::NotFound(std::string(secret ? "secret" : "configmap") + " \"" + name +
                              "\" not found");
    }
    return AddKeyed(source, secret, *obj, mode, prefix, files);
  };
  if (volume.contains("configMap")) {
    const json& s = volume["configMap"];
    SHARDWISE_RETURN_IF_ERROR(keyed(s, false, ModeOf(s.value("defaultMode", json()), 0644), ""));
  } else if (volume.contains("secret")) {
    const json& s = volume["secret"];
    SHARDWISE_RETURN_IF_ERROR(keyed(s, true, ModeOf(s.value("defaultMode", json()), 0644), ""));
  } else if (volume.contains("downwardAPI")) {
    const json& s = volume["downwardAPI"];
    SHARDWISE_RETURN_IF_ERROR(AddDownward(pod, s.value("items", json::array()),
                                          ModeOf(s.value("defaultMode", json()), 0644), "", files));
  } else if (volume.contains("projected")) {
    const json& p = volume["projected"];
    int mode = ModeOf(p.value("defaultMode", json()), 0644);
    for (const auto& src : p.value("sources", json::array())) {
      if (src.contains("configMap")) {
        SHARDWISE_RETURN_IF_ERROR(keyed(src["configMap"], false, mode, ""));
      } else if (src.contains("secret")) {
        SHARDWISE_RETURN_IF_ERROR(keyed(src["secret"], true, mode, ""));
      } else if (src.contains("downwardAPI")) {
        SHARDWISE_RETURN_IF_ERROR(
            AddDownward(pod, src["downwardAPI"].value("items", json::array()), mode, "", files));
      } else if (src.contains("serviceAccountToken")) {
        const json& t = src["serviceAccountToken"];
        std::string path = t.value("path", "token");
        json exp_v = t.value("expirationSeconds", json(3600));
        long long exp = exp_v.is_number_integer() ? exp_v.get<long long>() : 3600;
        if (exp < 600) exp = 600;
        std::vector<std::string> audiences;
        if (!t.value("audience", "").empty()) audiences.push_back(t["audience"]);
        std::string key = vname + "/" + path;
        long long now = NowSeconds();
        auto it = tokens_.find(key);
        bool fresh = it != tokens_.end() &&
                     now < it->second.issued +
                               (it->second.token.expiration_unix - it->second.issued) * 8 / 10;
        if (!fresh) {
          if (!ctx.issue_token) return Status::FailedPrecondition("no token issuer");
          auto issued = ctx.issue_token(md.value("namespace", ""),
                                        pod["spec"].value("serviceAccountName", "default"),
                                        audiences, exp, md.value("name", ""), md.value("uid", ""));
          if (!issued.ok()) return issued.status();
          tokens_[key] = CachedToken{issued.value(), now};
        }
        files[path] = {tokens_[key].token.token, ModeOf(t.value("mode", json()), mode)};
      }
    }
  }
  return files;
}

Status PodVolumes::WriteAtomic(const std::string& dir, const FileMap& files, long long fs_group) {
  std::string fingerprint;
  for (const auto& [path, content] : files)
    fingerprint += path + '\0' + std::to_string(content.second) + '\0' + content.first + '\0';
  auto w = written_.find(dir);
  if (w != written_.end() && w->second == fingerprint) return Status::OK();
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string ts = "..sim_" + std::to_string(NowSeconds()) + "_" + std::to_string(++generation_);
  fs::path tsdir = fs::path(dir) / ts;
  fs::create_directories(tsdir, ec);
  if (ec) return Status::IOError("creating " + tsdir.string() + ": " + ec.message());
  for (const auto& [path, content] : files) {
    fs::path p = tsdir / path;
    fs::create_directories(p.parent_path(), ec);
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << content.first;
      if (!out) return Status::IOError("writing " + p.string());
    }
    ::chmod(p.c_str(), static_cast<mode_t>(content.second & 07777));
    if (fs_group >= 0 &&
        ::chown(p.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(fs_group)) != 0) {
    }
  }
  ::chmod(tsdir.c_str(), 0755);
  fs::path link_tmp = fs::path(dir) / "..data_tmp";
  fs::remove(link_tmp, ec);
  fs::create_symlink(ts, link_tmp, ec);
  if (ec) return Status::IOError("symlink in " + dir + ": " + ec.message());
  fs::rename(link_tmp, fs::path(dir) / "..data", ec);
  if (ec) return Status::IOError("rename in " + dir + ": " + ec.message());
  std::set<std::string> top;
  for (const auto& [path, content] : files) top.insert(path.substr(0, path.find('/')));
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name == "..data" || name == ts) continue;
    if (name.rfind("..", 0) == 0 || !top.count(name)) fs::remove_all(entry.path(), ec);
  }
  for (const auto& name : top) {
    fs::path link = fs::path(dir) / name;
    if (!fs::is_symlink(fs::symlink_status(link, ec)))
      fs::create_symlink("..data/" + name, link, ec);
  }
  written_[dir] = fingerprint;
  return Status::OK();
}

Status PodVolumes::Sync(const json& pod, const VolumeContext& ctx) {
  const json& spec = pod.value("spec", json::object());
  const json& md = pod.value("metadata", json::object());
  long long fs_group = -1;
  const json& psc = spec.value("securityContext", json::object());
  if (psc.is_object() && psc.value("fsGroup", json()).is_number_integer())
    fs_group = psc["fsGroup"].get<long long>();
  std::vector<json> volumes;
  for (const auto& v : spec.value("volumes", json::array())) volumes.push_back(v);
  json sa = DefaultServiceAccountVolume(
      pod, ctx.get("serviceaccounts", spec.value("serviceAccountName", "default")));
  if (!sa.is_null()) volumes.push_back(sa);
  std::error_code ec;
  for (const auto& v : volumes) {
    std::string name = v.value("name", "");
    if (name.empty()) continue;
    std::string dir = pod_dir_ + "/volumes/" + name;
    if (v.contains("persistentVolumeClaim")) {
      std::string claim = v["persistentVolumeClaim"].value("claimName", "");
      auto pvc = ctx.get("persistentvolumeclaims", claim);
      if (!pvc) return Status::NotFound("persistentvolumeclaim \"" + claim + "\" not found");
      std::string host = ctx.pvc_root + "/" + md.value("namespace", "") + "_" + claim + "_" +
                         (*pvc)["metadata"].value("uid", "");
      if (!fs::exists(host)) {
        fs::create_directories(host, ec);
        ::chmod(host.c_str(), 0777);
      }
      if (ctx.bind_claim) SHARDWISE_RETURN_IF_ERROR(ctx.bind_claim(*pvc, host));
      paths_[name] = host;
    } else if (v.contains("hostPath")) {
      std::string host = v["hostPath"].value("path", "");
      std::string type = v["hostPath"].value("type", "");
      if (type == "DirectoryOrCreate" && !fs::exists(host)) fs::create_directories(host, ec);
      paths_[name] = host;
    } else if (v.contains("configMap") || v.contains("secret") || v.contains("downwardAPI") ||
               v.contains("projected")) {
      auto files = Files(pod, v, ctx);
      if (!files.ok()) return files.status().WithContext("volume \"" + name + "\"");
      SHARDWISE_RETURN_IF_ERROR(WriteAtomic(dir, files.value(), fs_group));
      paths_[name] = dir;
    } else {
      // emptyDir and anything not emulated: an empty directory.
      if (!fs::exists(dir)) {
        fs::create_directories(dir, ec);
        ::chmod(dir.c_str(), 0777);
      }
      paths_[name] = dir;
    }
    if (fs_group >= 0 && (v.contains("emptyDir") || v.contains("persistentVolumeClaim"))) {
      if (::chown(paths_[name].c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(fs_group)) !=
          0) {
      }
    }
  }
  return Status::OK();
}

std::string PodVolumes::HostPath(const std::string& volume) const {
  auto it = paths_.find(volume);
  return it == paths_.end() ? "" : it->second;
}

}  // namespace shardwise::kubesim
