#include "hack/kube-sim/kubelet/prober.h"

#include <gtest/gtest.h>

namespace shardwise::kubesim {
namespace {

// kubectl describe pod shows these in the kubelet's Unhealthy Events: worded as a real
// kubelet's (Go net/http) errors, the URL named once.
TEST(ProberTest, HttpProbeFailuresReadLikeTheKubelets) {
  const std::string url = "http://127.1.0.7:9091/healthz";
  EXPECT_EQ(HttpProbeFailure(Status::Unavailable("GET " + url +
                                                 ": Failed to connect to "
                                                 "127.1.0.7 port 9091 after 0 ms: Couldn't "
                                                 "connect to server"),
                             url, "127.1.0.7:9091"),
            "Get \"" + url + "\": dial tcp 127.1.0.7:9091: connect: connection refused");
  EXPECT_EQ(HttpProbeFailure(Status::DeadlineExceeded("GET " + url + ": Operation timed out"), url,
                             "127.1.0.7:9091"),
            "Get \"" + url +
                "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
  EXPECT_EQ(HttpProbeFailure(Status::Unavailable("GET " + url + ": Empty reply from server"), url,
                             "127.1.0.7:9091"),
            "Get \"" + url + "\": EOF");
  EXPECT_EQ(HttpProbeFailure(Status::Unavailable("GET " + url + ": SSL connect error"), url,
                             "127.1.0.7:9091"),
            "Get \"" + url + "\": SSL connect error");
}

}  // namespace
}  // namespace shardwise::kubesim
