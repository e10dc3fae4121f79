#include "tests/e2e/local_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace shardwise::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

std::string LocalCluster::BuildOutput(const std::string& relative) {
  const char* bin = std::getenv("SHARDWISE_BINARY_DIR");
  std::string base = bin ? bin : "build";
  return base + "/" + relative;
}

std::string LocalCluster::SourcePath(const std::string& relative) {
  const char* src = std::getenv("SHARDWISE_SOURCE_DIR");
  return std::string(src ? src : ".") + "/" + relative;
}

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {}

LocalCluster::~LocalCluster() { Stop(); }

std::map<std::string, std::string> LocalCluster::KubectlEnv() const {
  return {{"KUBECONFIG", kubeconfig_},
          {"KUBECACHEDIR", dir_.path() + "/kube-cache"},
          {"HOME", dir_.path() + "/home"}};
}

Status LocalCluster::Start() {
  std::filesystem::create_directories(dir_.path() + "/home");
  std::map<std::string, std::vector<std::string>> images = {
      {"shardwise/operator", {BuildOutput("operator/shardwise-operator")}},
      {"shardwise/scraper", {BuildOutput("scraper/shardwise-scraper")}},
      {"shardwise/sample-app", {BuildOutput("hack/sample-app/shardwise-sample-app")}},
      {"quay.io/prometheus/node-exporter", {"/usr/bin/prometheus-node-exporter"}},
      {"victoriametrics/victoria-metrics", {"/usr/bin/victoria-metrics"}},
      {"prom/prometheus", {"/usr/bin/prometheus"}},
      {"busybox", {"/bin/sh"}}};
  for (const auto& [k, v] : options_.images) images[k] = v;
  std::ostringstream map;
  map << "images:\n";
  for (const auto& [image, argv] : images) {
    map << "  " << Quote(image) << ":\n    command: [";
    for (size_t i = 0; i < argv.size(); ++i) map << (i ? ", " : "") << Quote(argv[i]);
    map << "]\n";
  }
  std::string image_map = dir_.File("images.yaml", map.str());
  kubeconfig_ = dir_.path() + "/kubeconfig";
  std::vector<std::string> args = {
      BuildOutput("hack/kube-sim/shardwise-kube-sim"), "--listen=off", "--tls-listen=127.0.0.1:0",
      "--cert-dir=" + dir_.path() + "/certs", "--kubeconfig-out=" + kubeconfig_,
      // kubectl asks for a password on HTTPS without credentials.
      "--token=admin=e2e-admin-token", "--nodes=" + std::to_string(options_.nodes),
      "--image-map=" + image_map, "--data-dir=" + data_dir(),
      "--restart-backoff-scale=" + std::to_string(options_.backoff_scale),
      "--namespace-deletion-delay-ms=100"};
  for (const auto& a : options_.extra_args) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string log_path = dir_.path() + "/sim.log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  int rc = posix_spawn(&pid_, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    return Status::Internal(std::string("cannot start ") + argv[0] + ": " + std::strerror(rc));
  }
  bool up = WaitFor([&] { return std::filesystem::exists(kubeconfig_) || !ProcessAlive(pid_); },
                    std::chrono::seconds(30));
  if (!up || !std::filesystem::exists(kubeconfig_))
    return Status::Unavailable("the simulator did not start:\n" + SimLog());
  // Every node registered and Ready before tests create pods.
  if (!WaitForCondition("node --all", "Ready", "", std::chrono::seconds(30)))
    return Status::Unavailable("nodes not ready:\n" + SimLog());
  return Status::OK();
}

int LocalCluster::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  bool exited = WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  int code = -1;
  if (exited) {
    code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  } else {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return code;
}

void LocalCluster::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string LocalCluster::SimLog() const {
  std::ifstream in(dir_.path() + "/sim.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult LocalCluster::Kubectl(std::vector<std::string> args,
                                    std::chrono::milliseconds timeout,
                                    const std::string& stdin_data) const {
  args.insert(args.begin(), "kubectl");
  return RunCommand(args, KubectlEnv(), timeout, stdin_data);
}

CommandResult LocalCluster::Apply(const std::string& yaml) const {
  return Kubectl({"apply", "-f", "-"}, std::chrono::seconds(30), yaml);
}

bool LocalCluster::WaitForExists(const std::string& resource, const std::string& ns,
                                 std::chrono::seconds timeout) const {
  if (resource.find("--all") != std::string::npos) return true;
  return WaitFor([&] { return !JsonPath(resource, ".metadata.name", ns).empty(); }, timeout);
}

bool LocalCluster::WaitForJsonPath(const std::string& resource, const std::string& path,
                                   const std::string& value, const std::string& ns,
                                   std::chrono::seconds timeout) const {
  // kubectl wait gives up at once on an object that does not exist yet.
  if (!WaitForExists(resource, ns, timeout)) return false;
  std::vector<std::string> args = {"wait", "--for=jsonpath={" + path + "}=" + value,
                                   "--timeout=" + std::to_string(timeout.count()) + "s"};
  std::istringstream words(resource);
  for (std::string w; words >> w;) args.push_back(w);
  if (!ns.empty()) args.insert(args.begin(), {"-n", ns});
  return Kubectl(args, timeout + std::chrono::seconds(10)).exit_code == 0;
}

bool LocalCluster::WaitForCondition(const std::string& resource, const std::string& condition,
                                    const std::string& ns, std::chrono::seconds timeout) const {
  if (!WaitForExists(resource, ns, timeout)) return false;
  std::vector<std::string> args = {"wait", "--for=condition=" + condition,
                                   "--timeout=" + std::to_string(timeout.count()) + "s"};
  std::istringstream words(resource);
  for (std::string w; words >> w;) args.push_back(w);
  if (!ns.empty()) args.insert(args.begin(), {"-n", ns});
  return Kubectl(args, timeout + std::chrono::seconds(10)).exit_code == 0;
}

std::string LocalCluster::JsonPath(const std::string& resource, const std::string& path,
                                   const std::string& ns) const {
  std::vector<std::string> args = {"get", "-o", "jsonpath={" + path + "}"};
  std::istringstream words(resource);
  for (std::string w; words >> w;) args.push_back(w);
  if (!ns.empty()) args.insert(args.begin(), {"-n", ns});
  CommandResult r = Kubectl(args);
  return r.exit_code == 0 ? r.out : "";
}

std::string LocalCluster::PodIp(const std::string& pod, const std::string& ns) const {
  return JsonPath("pod " + pod, ".status.podIP", ns);
}

std::string LocalCluster::Logs(const std::string& pod, const std::string& container,
                               std::vector<std::string> extra, const std::string& ns) const {
  std::vector<std::string> args = {"-n", ns, "logs", pod, "-c", container};
  for (auto& e : extra) args.push_back(e);
  return Kubectl(args).out;
}

pid_t LocalCluster::ContainerPid(const std::string& pod, const std::string& container,
                                 const std::string& ns) const {
  std::string id = JsonPath(
      "pod " + pod, ".status.containerStatuses[?(@.name==\"" + container + "\")].containerID", ns);
  const std::string prefix = "kubesim://";
  if (id.rfind(prefix, 0) != 0) return 0;
  return static_cast<pid_t>(std::atol(id.c_str() + prefix.size()));
}

bool LocalCluster::KillContainer(const std::string& pod, const std::string& container, int signal,
                                 const std::string& ns) const {
  pid_t pid = ContainerPid(pod, container, ns);
  return pid > 0 && ::kill(pid, signal) == 0;
}

}  // namespace shardwise::testing
