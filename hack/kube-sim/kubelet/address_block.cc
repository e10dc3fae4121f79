#include "hack/kube-sim/kubelet/address_block.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace shardwise::kubesim {

Result<AddressBlock> AddressBlock::Claim(const std::string& lock_dir) {
  std::string last_error;
  for (int b = 1; b <= kMaxBlocks; ++b) {
    std::string path = lock_dir + "/shardwise-kube-sim-net-" + std::to_string(b) + ".lock";
    // 0666 (umask permitting): simulators of different users share the address space.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      last_error = path + ": " + std::strerror(errno);
      continue;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return AddressBlock(b, fd);
    last_error = path + ": " + std::strerror(errno);
    ::close(fd);
  }
  return Status::ResourceExhausted("no free loopback address block for the local cluster (" +
                                   std::to_string(kMaxBlocks) +
                                   " simulators running?); last: " + last_error);
}

AddressBlock::AddressBlock(AddressBlock&& other) noexcept
    : index_(other.index_), fd_(std::exchange(other.fd_, -1)) {}

AddressBlock& AddressBlock::operator=(AddressBlock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    index_ = other.index_;
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

AddressBlock::~AddressBlock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AddressBlock::pod_prefix() const { return "127." + std::to_string(index_) + "."; }

std::string AddressBlock::service_prefix() const {
  return "127." + std::to_string(95 + index_) + ".";
}

std::string AddressBlock::node_prefix() const {
  return "127.0." + std::to_string(index_ - 1) + ".";
}

}  // namespace shardwise::kubesim
