#include "common/flags/flags.h"

#include <charconv>
#include <memory>

#include "common/duration.h"

namespace shardwise {

FlagSet::FlagSet(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

void FlagSet::String(std::string name, std::string* target, std::string help) {
  flags_.push_back(
      {std::move(name), std::move(help), *target, false, false, [target](const std::string& v) {
         *target = v;
         return Status::OK();
       }});
}

namespace {

Status ParseInt(const std::string& flag, const std::string& v, int64_t* out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return Status::InvalidArgument("flag --" + flag + ": \"" + v + "\" is not an integer");
  }
  return Status::OK();
}

}  // namespace

void FlagSet::Int(std::string name, int64_t* target, std::string help) {
  std::string n = name;
  flags_.push_back({std::move(name), std::move(help), std::to_string(*target), false, false,
                    [target, n](const std::string& v) { return ParseInt(n, v, target); }});
}

void FlagSet::Size(std::string name, size_t* target, std::string help, size_t min) {
  std::string n = name;
  flags_.push_back({std::move(name), std::move(help), std::to_string(*target), false, false,
                    [target, n, min](const std::string& v) {
                      int64_t x = 0;
                      SHARDWISE_RETURN_IF_ERROR(ParseInt(n, v, &x));
                      if (x < 0 || static_cast<uint64_t>(x) < min) {
                        return Status::InvalidArgument("flag --" + n + ": " + v +
                                                       " is below the minimum " +
                                                       std::to_string(min));
                      }
                      *target = static_cast<size_t>(x);
                      return Status::OK();
                    }});
}

void FlagSet::Double(std::string name, double* target, std::string help) {
  std::string n = name;
  flags_.push_back({std::move(name), std::move(help), std::to_string(*target), false, false,
                    [target, n](const std::string& v) {
                      double x = 0;
                      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
                      if (ec != std::errc() || p != v.data() + v.size()) {
                        return Status::InvalidArgument("flag --" + n + ": \"" + v +
                                                       "\" is not a number");
                      }
                      *target = x;
                      return Status::OK();
                    }});
}

void FlagSet::Bool(std::string name, bool* target, std::string help) {
  std::string n = name;
  flags_.push_back({std::move(name), std::move(help), *target ? "true" : "false", true, false,
                    [target, n](const std::string& v) {
                      if (v == "true" || v == "1") {
                        *target = true;
                      } else if (v == "false" || v == "0") {
                        *target = false;
                      } else {
                        return Status::InvalidArgument("flag --" + n + ": \"" + v +
                                                       "\" is not true or false");
                      }
                      return Status::OK();
                    }});
}

void FlagSet::Duration(std::string name, std::chrono::milliseconds* target, std::string help) {
  std::string n = name;
  flags_.push_back({std::move(name), std::move(help), FormatDuration(*target), false, false,
                    [target, n](const std::string& v) {
                      auto d = ParseDuration(v);
                      if (!d.ok()) return d.status().WithContext("flag --" + n);
                      *target = *d;
                      return Status::OK();
                    }});
}

void FlagSet::StringList(std::string name, std::vector<std::string>* target, std::string help) {
  auto cleared = std::make_shared<bool>(false);
  std::string def;
  for (const auto& s : *target) def += (def.empty() ? "" : ",") + s;
  flags_.push_back(
      {std::move(name), std::move(help), def, false, true, [target, cleared](const std::string& v) {
         if (!*cleared) {  // the first explicit value replaces the defaults
           target->clear();
           *cleared = true;
         }
         target->push_back(v);
         return Status::OK();
       }});
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status FlagSet::Parse(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return Parse(args);
}

Status FlagSet::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a == "--version") {
      version_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      return Status::InvalidArgument("unexpected argument \"" + a + "\" (flags start with --)");
    }
    std::string name = a.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* f = Find(name);
    if (f == nullptr && !has_value && name.rfind("no-", 0) == 0) {
      Flag* neg = Find(name.substr(3));
      if (neg != nullptr && neg->is_bool) {
        SHARDWISE_RETURN_IF_ERROR(neg->set("false"));
        continue;
      }
    }
    if (f == nullptr) return Status::InvalidArgument("unknown flag --" + name + " (see --help)");
    if (!has_value) {
      if (f->is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Status::InvalidArgument("flag --" + name + " needs a value");
      }
    }
    SHARDWISE_RETURN_IF_ERROR(f->set(value));
  }
  return Status::OK();
}

std::string FlagSet::Usage() const {
  std::string out = "usage: " + program_ + " [<flags>]\n\n" + description_ + "\n\nFlags:\n";
  out += "  -h, --help  Show this help.\n      --version  Show the version.\n";
  for (const auto& f : flags_) {
    out += "      --";
    out += f.is_bool ? "[no-]" + f.name : f.name + "=VALUE";
    out += "\n          " + f.help;
    if (!f.default_text.empty()) out += " (default: " + f.default_text + ")";
    if (f.repeatable) out += " (repeatable)";
    out += "\n";
  }
  return out;
}

}  // namespace shardwise
