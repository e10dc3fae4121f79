// FlagSet: command-line flags in the Prometheus (kingpin) style:
//   --web.listen-address=:9090   --web.listen-address :9090   --flag (bool)   --no-flag
// Repeatable flags collect a list. `--help` and `--version` are built in. Unknown flags,
// missing values and unparsable values are errors naming the flag.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardwise {

class FlagSet {
 public:
  FlagSet(std::string program, std::string description);

  // The target's current value is the default shown in --help.
  void String(std::string name, std::string* target, std::string help);
  void Int(std::string name, int64_t* target, std::string help);
  // A count or a size: an integer of at least `min`; a smaller (or negative) value is an error
  // naming the flag, so a program never casts a negative flag into a huge size_t.
  void Size(std::string name, size_t* target, std::string help, size_t min = 0);
  void Double(std::string name, double* target, std::string help);
  void Bool(std::string name, bool* target, std::string help);
  void Duration(std::string name, std::chrono::milliseconds* target, std::string help);
  void StringList(std::string name, std::vector<std::string>* target, std::string help);

  // Parses argv[1..]. Afterwards check help_requested()/version_requested().
  Status Parse(int argc, char** argv);
  Status Parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_; }
  bool version_requested() const { return version_; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    bool repeatable = false;
    std::function<Status(const std::string&)> set;
  };
  Flag* Find(const std::string& name);

  std::string program_;
  std::string description_;
  std::vector<Flag> flags_;
  bool help_ = false;
  bool version_ = false;
};

}  // namespace shardwise
