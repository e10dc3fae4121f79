// shardwise-kube-sim: a Kubernetes API server simulator that the real kubectl accepts
// (apiserver 1.32 surface: discovery, OpenAPI v3, Tables, list/watch, patch and server-side
// apply, CRDs with schema validation, finalizers, garbage collection, namespaces, and the
// Deployment, ReplicaSet, StatefulSet, DaemonSet, EndpointSlice, Endpoints, PDB and HPA
// controllers; with --nodes, a scheduler and a kubelet that runs pods as real processes;
// authentication and RBAC, ServiceAccount tokens, APIService aggregation).
// Stops cleanly on SIGTERM/SIGINT.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/app/app.h"
#include "common/log/log.h"
#include "hack/kube-sim/kubelet/launcher.h"
#include "hack/kube-sim/simulator.h"

int main(int argc, char** argv) {
  using namespace shardwise;
  // The container launcher: single-threaded, before anything else starts.
  if (argc >= 2 && std::string(argv[1]) == "pod-exec") return kubesim::PodExecMain(argc, argv);
  App app("shardwise-kube-sim",
          "A Kubernetes API simulator that the real kubectl accepts: discovery, OpenAPI v3, "
          "Tables, list/watch, patch and server-side apply, CRDs with schema validation, "
          "finalizers, garbage collection, namespaces, the workload, endpoint, disruption-budget "
          "and HPA controllers, authentication with RBAC and ServiceAccount tokens, the "
          "aggregation layer for APIServices; with --nodes, a scheduler and a kubelet that runs "
          "pods as real processes.",
          /*default_listen_address=*/"");
  kubesim::SimulatorOptions opts;
  std::string kubeconfig_out;
  std::vector<std::string> tokens;
  int64_t namespace_deletion_delay_ms = opts.namespace_deletion_delay_ms;
  std::chrono::milliseconds bookmark_interval = opts.bookmark_interval;
  std::chrono::milliseconds hpa_sync_period = opts.hpa_sync_period;
  FlagSet& f = app.flags();
  f.String("listen", &opts.listen_address,
           "Plain HTTP listener, HOST:PORT (port 0: a free port); \"off\" disables it.");
  f.String("tls-listen", &opts.tls_listen_address,
           "HTTPS listener with a freshly generated CA and serving certificate; empty: off.");
  f.String("cert-dir", &opts.cert_dir,
           "Where ca.crt, tls.crt and tls.key are written (default: a new temporary directory).");
  f.String("kubeconfig-out", &kubeconfig_out,
           "Write an admin kubeconfig to PATH for the address the simulator listens on: the "
           "HTTPS endpoint when it is on (then PATH-http gets the plain HTTP one, if that is "
           "on too), else the HTTP endpoint.");
  f.StringList("token", &tokens,
               "USER=TOKEN[=GROUP,...]: accept bearer TOKEN as USER, a member of the GROUPs "
               "(RBAC applies) or, without groups, of system:masters (an admin). The "
               "kubeconfig uses the first one; without any it carries the admin's client "
               "certificate. Unknown tokens get 401.");
  f.String("state-file", &opts.state_file,
           "Load the cluster from PATH at start; save it there about once a second after "
           "changes and at shutdown.");
  f.Int("namespace-deletion-delay-ms", &namespace_deletion_delay_ms,
        "How long a Terminating namespace waits before its contents are deleted.");
  f.Duration("bookmark-interval", &bookmark_interval,
             "BOOKMARK period for watches that allow them.");
  f.Duration("hpa-sync-period", &hpa_sync_period,
             "How often the HorizontalPodAutoscaler controller syncs each HPA.");
  int64_t nodes = 0;
  std::string image_map;
  f.Int("nodes", &nodes,
        "Simulated Nodes (node-1 ... node-N) with a scheduler and a kubelet that runs each "
        "pod's containers as real processes (needs root). 0: pods stay Pending.");
  f.String("image-map", &image_map,
           "YAML file mapping container images (without tag) to their entrypoint and default "
           "args; see docs/local-cluster.md.");
  f.String("data-dir", &opts.kubelet.data_dir,
           "Where pod directories, container logs and PersistentVolumeClaim data live "
           "(default: a new temporary directory).");
  f.String("node-cpu", &opts.kubelet.node_cpu, "Each node's cpu capacity and allocatable.");
  f.String("node-memory", &opts.kubelet.node_memory,
           "Each node's memory capacity and allocatable.");
  f.String("node-max-pods", &opts.kubelet.node_pods, "Pods per node.");
  f.Double("restart-backoff-scale", &opts.kubelet.backoff_scale,
           "Multiplies the CrashLoopBackOff delays (10s doubling to 300s); e.g. 0.1 in tests.");
  if (auto code = app.Init(argc, argv)) return *code;

  if (opts.listen_address == "off") opts.listen_address.clear();
  opts.namespace_deletion_delay_ms = static_cast<int>(namespace_deletion_delay_ms);
  opts.bookmark_interval = bookmark_interval;
  if (hpa_sync_period.count() <= 0) {
    std::fprintf(stderr, "shardwise-kube-sim: --hpa-sync-period must be positive\n");
    return 2;
  }
  opts.hpa_sync_period = hpa_sync_period;
  std::string first_user;
  for (const auto& t : tokens) {
    size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == t.size()) {
      std::fprintf(stderr, "shardwise-kube-sim: --token wants USER=TOKEN, got \"%s\"\n", t.c_str());
      return 2;
    }
    std::string user = t.substr(0, eq), token = t.substr(eq + 1);
    size_t eq2 = token.find('=');
    if (eq2 != std::string::npos) {
      std::string groups = token.substr(eq2 + 1);
      token = token.substr(0, eq2);
      auto& list = opts.token_groups[user];
      size_t start = 0;
      while (start <= groups.size()) {
        size_t comma = groups.find(',', start);
        if (comma == std::string::npos) comma = groups.size();
        if (comma > start) list.push_back(groups.substr(start, comma - start));
        start = comma + 1;
      }
    }
    if (token.empty()) {
      std::fprintf(stderr, "shardwise-kube-sim: --token wants USER=TOKEN, got \"%s\"\n", t.c_str());
      return 2;
    }
    opts.tokens[user] = token;
    if (first_user.empty()) first_user = user;
  }
  if (opts.listen_address.empty() && opts.tls_listen_address.empty()) {
    std::fprintf(stderr, "shardwise-kube-sim: both listeners are off\n");
    return 2;
  }

  if (nodes < 0 || nodes > 250) {
    std::fprintf(stderr, "shardwise-kube-sim: --nodes must be between 0 and 250\n");
    return 2;
  }
  opts.kubelet.nodes = static_cast<int>(nodes);
  if (!image_map.empty()) {
    auto images = kubesim::ImageMap::Load(image_map);
    if (!images.ok()) {
      std::fprintf(stderr, "shardwise-kube-sim: %s\n", images.status().ToString().c_str());
      return 2;
    }
    opts.kubelet.images = std::move(images).value();
  }
  if (opts.kubelet.backoff_scale <= 0) {
    std::fprintf(stderr, "shardwise-kube-sim: --restart-backoff-scale must be positive\n");
    return 2;
  }
  if (nodes > 0) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) opts.kubelet.launcher.assign(self, static_cast<size_t>(n));
    if (geteuid() != 0)
      log::Warn("the simulated kubelet needs root for mount namespaces; containers will fail");
  }

  kubesim::Simulator sim(opts);
  if (Status s = sim.Start(); !s.ok()) {
    log::Error("start failed", {{"err", s}});
    return 1;
  }
  if (!kubeconfig_out.empty()) {
    Status s;
    if (sim.tls_port()) {
      s = sim.WriteKubeconfig(kubeconfig_out, true, first_user);
      if (s.ok() && sim.port())
        s = sim.WriteKubeconfig(kubeconfig_out + "-http", false, first_user);
    } else {
      s = sim.WriteKubeconfig(kubeconfig_out, false, first_user);
    }
    if (!s.ok()) {
      log::Error("writing kubeconfig failed", {{"err", s}});
      return 1;
    }
    log::Info("kubeconfig written", {{"path", kubeconfig_out}});
  }
  log::Info("serving", {{"http", sim.port() ? sim.url() : "off"},
                        {"https", sim.tls_port() ? sim.tls_url() : "off"}});
  app.WaitForShutdown();
  sim.Stop();
  return 0;
}
