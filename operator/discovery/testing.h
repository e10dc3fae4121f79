// Test helpers: loading the JSON fixtures under testdata/ and building a ClusterView.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/labels.h"
#include "operator/discovery/cluster_view.h"

namespace shardwise::opdiscovery::testing {

inline nlohmann::json LoadJson(const std::string& file) {
  std::ifstream in(std::string(SHARDWISE_DISCOVERY_TESTDATA) + "/" + file);
  EXPECT_TRUE(in.good()) << "cannot open " << file;
  std::stringstream buf;
  buf << in.rdbuf();
  return nlohmann::json::parse(buf.str());
}

// Owns the fixture objects and the view over them.
struct Cluster {
  nlohmann::json objects;
  ClusterView view;

  explicit Cluster(const std::string& file) : objects(LoadJson(file)) {
    for (const auto& item : objects["items"]) {
      Status st = view.Add(item);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
  }
};

// "a=1, b=2" style, sorted by name: easy to read in failure messages.
inline std::string Render(const Labels& labels) {
  std::string out;
  for (const auto& l : labels) {
    if (!out.empty()) out += ", ";
    out += l.name + "=" + l.value;
  }
  return out;
}

}  // namespace shardwise::opdiscovery::testing
