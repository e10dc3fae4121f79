// AddressBlock: the loopback addresses one local cluster hands out, claimed so that several
// simulators on one machine (parallel e2e tests, a demo beside them) never give two pods,
// or two Services, the same address.
//
// Block b (1..95) is pods 127.b.0.0/16, Service ClusterIPs 127.(95+b).0.0/16 and node
// InternalIPs 127.0.(b-1).x; block 1 is the documented default (127.1, 127.96, 127.0.0).
// A block is held by an exclusive flock(2) on DIR/shardwise-kube-sim-net-<b>.lock for the
// life of the object (the descriptor is close-on-exec, so pods do not inherit it): the
// kernel releases it when the simulator exits, however it exits, and the next claimant
// takes the lowest free block.
#pragma once

#include <string>

#include "common/status.h"

namespace shardwise::kubesim {

class AddressBlock {
 public:
  static constexpr int kMaxBlocks = 95;

  // The lowest block no other process holds; ResourceExhausted when all are taken.
  static Result<AddressBlock> Claim(const std::string& lock_dir = "/tmp");

  AddressBlock(AddressBlock&& other) noexcept;
  AddressBlock& operator=(AddressBlock&& other) noexcept;
  AddressBlock(const AddressBlock&) = delete;
  AddressBlock& operator=(const AddressBlock&) = delete;
  ~AddressBlock();  // releases the block

  int index() const { return index_; }
  std::string pod_prefix() const;      // "127.b."
  std::string service_prefix() const;  // "127.(95+b)."
  std::string node_prefix() const;     // "127.0.(b-1)."

 private:
  AddressBlock(int index, int fd) : index_(index), fd_(fd) {}
  int index_ = 0;
  int fd_ = -1;
};

}  // namespace shardwise::kubesim
