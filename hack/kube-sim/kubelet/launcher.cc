#include "hack/kube-sim/kubelet/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

extern char** environ;

namespace shardwise::kubesim {
namespace {

json SpecToJson(const LaunchSpec& s) {
  json mounts = json::array();
  for (const auto& m : s.mounts)
    mounts.push_back({{"source", m.source}, {"target", m.target}, {"readOnly", m.read_only}});
  return {{"argv", s.argv},
          {"workingDir", s.working_dir},
          {"mounts", mounts},
          {"hostname", s.hostname},
          {"uid", s.uid},
          {"gid", s.gid},
          {"groups", s.supplemental_groups},
          {"joinPid", s.join_pid},
          {"memoryMax", s.memory_max},
          {"parentPid", getpid()}};
}

[[noreturn]] void Fail(const std::string& what) {
  std::string msg = "pod-exec: " + what + "\n";
  if (::write(2, msg.data(), msg.size()) < 0) {
  }
  _exit(128);
}

void MakeMountPoint(const std::string& source, const std::string& target) {
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) return;
  if (std::filesystem::is_directory(source, ec)) {
    std::filesystem::create_directories(target, ec);
  } else {
    std::filesystem::create_directories(std::filesystem::path(target).parent_path(), ec);
    std::ofstream(target, std::ios::app);
  }
}

// The container's view of its cgroup: only memory.max, read-only.
void MountCgroupFiles(const std::string& memory_max) {
  const char* dir = "/sys/fs/cgroup";
  struct stat st {};
  if (::stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return;  // no sysfs cgroup mount point
  const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (::mount("tmpfs", dir, "tmpfs", flags, "size=16k,mode=755") != 0)
    Fail(std::string("mounting a tmpfs at /sys/fs/cgroup: ") + std::strerror(errno));
  std::string path = std::string(dir) + "/memory.max";
  {
    std::ofstream f(path);
    f << memory_max << "\n";
    if (!f) Fail("writing " + path);
  }
  ::chmod(path.c_str(), 0444);
  if (::mount(nullptr, dir, nullptr, MS_REMOUNT | MS_RDONLY | flags, nullptr) != 0)
    Fail(std::string("read-only remount of /sys/fs/cgroup: ") + std::strerror(errno));
}

std::string FindProgram(const std::string& name, const std::string& path_env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path =
      path_env.empty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : path_env;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

}  // namespace

Result<pid_t> SpawnContainer(const std::string& launcher, const LaunchSpec& spec, int stdout_fd,
                             int stderr_fd) {
  std::string spec_text = SpecToJson(spec).dump();
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = "kube-sim-pod-exec", arg1 = "pod-exec";
  std::vector<char*> argv = {arg0.data(), arg1.data(), spec_text.data(), nullptr};

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  if (stderr_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, stderr_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  // The simulator blocks SIGTERM/SIGINT in every thread; containers must not inherit that.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
    sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, launcher.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::Internal("spawning " + launcher + ": " + std::strerror(rc));
  return pid;
}

int PodExecMain(int argc, char** argv) {
  // First: die with the simulator. Then check it did not die before we got here.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc < 3) Fail("usage: pod-exec SPEC_JSON");
  json spec = json::parse(argv[2], nullptr, false);
  if (!spec.is_object()) Fail("bad spec");
  if (getppid() != spec.value("parentPid", 0)) _exit(137);
  // Nothing of the simulator's leaks into the container.
  for (int fd = 3; fd < 1024; ++fd) ::close(fd);

  pid_t join = spec.value("joinPid", 0);
  if (join > 0) {
    for (const char* ns : {"mnt", "uts"}) {
      std::string p = "/proc/" + std::to_string(join) + "/ns/" + ns;
      int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) Fail("open " + p + ": " + std::strerror(errno));
      if (::setns(fd, 0) != 0) Fail("setns " + p + ": " + std::strerror(errno));
      ::close(fd);
    }
  } else {
    if (::unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0)
      Fail(std::string("unshare: ") + std::strerror(errno) + " (the simulated kubelet needs root)");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      Fail(std::string("making mounts private: ") + std::strerror(errno));
    std::string hostname = spec.value("hostname", "");
    if (!hostname.empty()) ::sethostname(hostname.data(), hostname.size());
    std::string memory_max = spec.value("memoryMax", "");
    if (!memory_max.empty()) MountCgroupFiles(memory_max);
    for (const auto& m : spec.value("mounts", json::array())) {
      std::string source = m.value("source", ""), target = m.value("target", "");
      MakeMountPoint(source, target);
      if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        Fail("mount " + source + " at " + target + ": " + std::strerror(errno));
      if (m.value("readOnly", false) &&
          ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
        Fail("read-only remount of " + target + ": " + std::strerror(errno));
    }
  }
  std::string wd = spec.value("workingDir", "");
  if (!wd.empty() && ::chdir(wd.c_str()) != 0) Fail("chdir " + wd + ": " + std::strerror(errno));
  std::vector<std::string> args = spec.value("argv", std::vector<std::string>{});
  if (args.empty()) Fail("no command");
  const char* path = std::getenv("PATH");
  std::string program = FindProgram(args[0], path ? path : "");
  // The image's program is opened while still root: a checkout in a private directory (a
  // 0700 home or mktemp dir) cannot be walked by a pod's runAsUser, yet a real node serves
  // every image to any user. Executing through this descriptor needs only the file's own
  // execute bit, as inside an image.
  int image_fd = ::open(program.c_str(), O_PATH | O_CLOEXEC);
  long long gid = spec.value("gid", -1LL), uid = spec.value("uid", -1LL);
  std::vector<gid_t> groups;
  for (const auto& g : spec.value("groups", json::array()))
    if (g.is_number_integer()) groups.push_back(static_cast<gid_t>(g.get<long long>()));
  if (gid >= 0) groups.push_back(static_cast<gid_t>(gid));
  if ((gid >= 0 || !groups.empty() || uid >= 0) && ::setgroups(groups.size(), groups.data()) != 0)
    Fail(std::string("setgroups: ") + std::strerror(errno));
  if (gid >= 0 && ::setgid(static_cast<gid_t>(gid)) != 0)
    Fail(std::string("setgid: ") + std::strerror(errno));
  if (uid >= 0 && ::setuid(static_cast<uid_t>(uid)) != 0)
    Fail(std::string("setuid: ") + std::strerror(errno));

  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  ::execve(program.c_str(), cargv.data(), environ);
  if (errno == EACCES && image_fd >= 0) {
    char empty[] = "";
    ::syscall(SYS_execveat, image_fd, empty, cargv.data(), environ, AT_EMPTY_PATH);
  }
  Fail("exec " + program + ": " + std::strerror(errno));
}

}  // namespace shardwise::kubesim
