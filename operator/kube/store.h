// Store: the informer's local cache — objects by key ("namespace/name" or "name") with
// secondary indexes, safe for many readers and one writer.
//
// Indexes map an object to index values; ByIndex(index, value) returns the objects that
// produced that value. Two are built in: kNamespaceIndex (the namespace) and kLabelIndex
// ("key=value" for every label, so ByIndex(kLabelIndex, "app=web") finds objects by
// label). Add custom ones with AddIndexer, e.g. pods by spec.nodeName, or by owner UID.
//
// Objects are immutable once stored (shared_ptr<const Object>): readers keep what they got
// even while the informer replaces it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "operator/kube/resource.h"

namespace shardwise::kube {

using ObjectPtr = std::shared_ptr<const Object>;
using IndexFunc = std::function<std::vector<std::string>(const Object&)>;

class Store {
 public:
  static constexpr std::string_view kNamespaceIndex = "namespace";
  static constexpr std::string_view kLabelIndex = "label";

  Store();

  // Adds an index and indexes what is already stored. Replaces one of the same name.
  void AddIndexer(std::string name, IndexFunc index);

  ObjectPtr Get(std::string_view key) const;  // nullptr when absent
  std::vector<ObjectPtr> List() const;        // ordered by key
  std::vector<std::string> Keys() const;      // ordered
  std::vector<ObjectPtr> ByIndex(std::string_view index, std::string_view value) const;
  size_t size() const;

  // Writes, for the informer. Each returns the previous object (nullptr when none).
  ObjectPtr Upsert(ObjectPtr object);
  ObjectPtr Remove(std::string_view key);

 private:
  void IndexLocked(const std::string& key, const Object& object, int sign);

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr, std::less<>> items_;
  std::map<std::string, IndexFunc, std::less<>> indexers_;
  // index name → index value → keys
  std::map<std::string, std::unordered_map<std::string, std::set<std::string>>, std::less<>>
      indexes_;
};

}  // namespace shardwise::kube
