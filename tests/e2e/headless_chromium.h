// Headless Chromium (Debian `chromium`) for the web UI tests: one run loads a page, lets its
// scripts run for a virtual-time budget, and either dumps the rendered DOM (with the page's
// console lines, which a healthy page leaves empty) or saves a screenshot. Rows()/Attrs()
// read the data-* attributes the pages put on their table rows for tests.
#pragma once

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing/test_util.h"
#include "tests/kubectl/command_runner.h"

namespace shardwise::testing {

inline bool ChromiumInstalled() {
  return RunCommand({"chromium", "--version"}, {}, std::chrono::seconds(30)).exit_code == 0;
}

struct Browser {
  std::string dom;
  std::string console;  // the page's console lines, if any
  CommandResult run;
};

// One headless Chromium run: --dump-dom (with the console on stderr) or --screenshot.
inline Browser Chromium(const std::string& url, const std::string& screenshot,
                        const TempDir& profile) {
  std::vector<std::string> argv = {"chromium", "--headless",
                                   "--no-sandbox",  // runs as root in CI containers
                                   "--disable-gpu", "--no-first-run", "--disable-extensions",
                                   "--hide-scrollbars", "--user-data-dir=" + profile.path(),
                                   "--window-size=1400,1100", "--virtual-time-budget=8000",
                                   // The operator serves HTTPS with its own CA (shardwise-ca),
                                   // which this profile does not trust; the test's client does.
                                   "--ignore-certificate-errors"};
  if (screenshot.empty()) {
    argv.insert(argv.end(), {"--enable-logging=stderr", "--v=0", "--dump-dom"});
  } else {
    argv.push_back("--screenshot=" + screenshot);
  }
  argv.push_back(url);
  Browser b;
  b.run = RunCommand(argv, {}, std::chrono::seconds(60));
  b.dom = b.run.out;
  std::istringstream err(b.run.err);
  for (std::string line; std::getline(err, line);) {
    if (line.find(":CONSOLE") != std::string::npos) b.console += line + "\n";
  }
  return b;
}

inline std::map<std::string, std::string> Attrs(const std::string& tag) {
  std::map<std::string, std::string> out;
  static const std::regex kAttr(R"re(([a-z-]+)="([^"]*)")re");
  for (auto it = std::sregex_iterator(tag.begin(), tag.end(), kAttr); it != std::sregex_iterator();
       ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

// Every <tr ...> opening tag carrying `marker` (e.g. data-shard=), as attribute maps.
inline std::vector<std::map<std::string, std::string>> Rows(const std::string& dom,
                                                            const std::string& marker) {
  std::vector<std::map<std::string, std::string>> rows;
  static const std::regex kTr(R"(<tr [^>]*>)");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), kTr); it != std::sregex_iterator();
       ++it) {
    std::string tag = it->str();
    if (tag.find(marker) != std::string::npos) rows.push_back(Attrs(tag));
  }
  return rows;
}

}  // namespace shardwise::testing
