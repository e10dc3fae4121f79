// Prober: runs readiness/liveness/startup probes (httpGet incl. HTTPS without
// verification, tcpSocket, exec inside the container's namespaces) on its own thread so a
// slow target never stalls the kubelet's loop. The kubelet submits due probes and
// collects results; thresholds and periods are the kubelet's business.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "hack/kube-sim/api_error.h"
#include "hack/kube-sim/kubelet/env.h"

namespace shardwise::kubesim {

struct ProbeTask {
  std::string key;  // the caller's id for the result
  json probe;       // a core/v1 Probe (or a lifecycle handler: exec/httpGet/tcpSocket)
  std::string pod_ip;
  json container;           // for named ports
  pid_t container_pid = 0;  // exec runs in this process's namespaces
  EnvList env;
  std::string launcher;
};

// Runs one probe or hook synchronously: true on success. `timeout_s` bounds it.
bool RunProbe(const ProbeTask& task, double timeout_s, std::string* detail);

// An httpGet probe's failure as the kubelet words it (Go's net/http client errors), from the
// HTTP client's error for `url` (host:port the probe dialled): "Get \"URL\": dial tcp
// HOST:PORT: connect: connection refused", "... context deadline exceeded
// (Client.Timeout exceeded while awaiting headers)", or the client's own reason.
std::string HttpProbeFailure(const Status& error, const std::string& url,
                             const std::string& host_port);

class Prober {
 public:
  Prober();
  ~Prober();
  void Submit(ProbeTask task);
  // Results since the last call: key -> (success, detail).
  std::map<std::string, std::pair<bool, std::string>> TakeResults();
  void Stop();

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ProbeTask> queue_;
  std::map<std::string, std::pair<bool, std::string>> results_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace shardwise::kubesim
