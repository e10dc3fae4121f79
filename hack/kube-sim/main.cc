// shardwise-kube-sim: a Kubernetes API server simulator that the real kubectl accepts.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/log/log.h"
#include "hack/kube-sim/simulator.h"

namespace {

constexpr char kUsage[] = R"(Usage: shardwise-kube-sim [flags]

A Kubernetes API simulator (apiserver 1.32 surface: discovery, OpenAPI v3, Tables,
list/watch, patch and server-side apply, CRDs with schema validation, finalizers,
garbage collection, namespaces). Logs go to stderr. Stops cleanly on SIGTERM/SIGINT.

Flags:
  --listen=HOST:PORT          plain HTTP listener (default 127.0.0.1:0, a random free
                              port; "off" disables it)
  --tls-listen=HOST:PORT      HTTPS listener with a freshly generated CA and serving
                              certificate (default off)
  --cert-dir=DIR              where ca.crt, tls.crt and tls.key are written (default: a
                              new temporary directory)
  --kubeconfig-out=PATH       write a kubeconfig for the HTTP endpoint to PATH and, when
                              HTTPS is on, one for the HTTPS endpoint to PATH-tls
  --token=USER=TOKEN          accept bearer TOKEN as USER (repeatable); the kubeconfig
                              uses the first one. Unknown tokens get 401 once any is set.
                              RBAC is not enforced yet.
  --state-file=PATH           load the cluster from PATH at start and save it there about
                              once a second after changes and at shutdown
  --namespace-deletion-delay-ms=N
                              how long a Terminating namespace waits before its contents
                              are deleted (default 1000)
  --bookmark-interval-ms=N    BOOKMARK period for watches that allow them (default 10000)
  --log-level=LEVEL           debug|info|warn|error (default info; debug logs requests)
  --log-format=FORMAT         logfmt|json (default logfmt)
  --help                      this text
)";

bool Flag(const std::string& arg, const char* name, std::string* value) {
  std::string prefix = std::string("--") + name + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  *value = arg.substr(prefix.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace shardwise;
  kubesim::SimulatorOptions opts;
  std::string kubeconfig_out, log_level = "info", log_format = "logfmt", first_user, v;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    // Accept "--flag value" as well as "--flag=value".
    if (arg.find('=') == std::string::npos && arg.rfind("--", 0) == 0 && i + 1 < argc)
      arg += "=" + std::string(argv[++i]);
    if (Flag(arg, "listen", &v)) {
      opts.listen_address = v == "off" ? "" : v;
    } else if (Flag(arg, "tls-listen", &v)) {
      opts.tls_listen_address = v == "off" ? "" : v;
    } else if (Flag(arg, "cert-dir", &v)) {
      opts.cert_dir = v;
    } else if (Flag(arg, "kubeconfig-out", &v)) {
      kubeconfig_out = v;
    } else if (Flag(arg, "token", &v)) {
      size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
        std::fprintf(stderr, "--token wants USER=TOKEN, got %s\n", v.c_str());
        return 2;
      }
      opts.tokens[v.substr(0, eq)] = v.substr(eq + 1);
      if (first_user.empty()) first_user = v.substr(0, eq);
    } else if (Flag(arg, "state-file", &v)) {
      opts.state_file = v;
    } else if (Flag(arg, "namespace-deletion-delay-ms", &v)) {
      opts.namespace_deletion_delay_ms = std::atoi(v.c_str());
    } else if (Flag(arg, "bookmark-interval-ms", &v)) {
      opts.bookmark_interval = std::chrono::milliseconds(std::atol(v.c_str()));
    } else if (Flag(arg, "log-level", &v)) {
      log_level = v;
    } else if (Flag(arg, "log-format", &v)) {
      log_format = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n\n%s", argv[i], kUsage);
      return 2;
    }
  }
  Status s = log::Setup(log_level, log_format, "kube-sim");
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  if (opts.listen_address.empty() && opts.tls_listen_address.empty()) {
    std::fprintf(stderr, "both listeners are off\n");
    return 2;
  }

  // Signals are taken synchronously by sigwait below; block them before threads start.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  kubesim::Simulator sim(opts);
  s = sim.Start();
  if (!s.ok()) {
    log::Error("start failed", {{"error", s}});
    return 1;
  }
  if (!kubeconfig_out.empty()) {
    if (sim.port()) s = sim.WriteKubeconfig(kubeconfig_out, false, first_user);
    if (s.ok() && sim.tls_port())
      s = sim.WriteKubeconfig(sim.port() ? kubeconfig_out + "-tls" : kubeconfig_out, true,
                              first_user);
    if (!s.ok()) {
      log::Error("writing kubeconfig failed", {{"error", s}});
      return 1;
    }
    log::Info("kubeconfig written", {{"path", kubeconfig_out}});
  }
  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("shutting down", {{"signal", sig}});
  sim.Stop();
  return 0;
}
