#include "common/labels.h"

#define XXH_STATIC_LINKING_ONLY  // for a stack-allocated XXH3_state_t
#include <xxhash.h>

#include <algorithm>
#include <cassert>

namespace shardwise {
namespace {

// Separator byte that cannot occur in valid UTF-8 label text, so ("a","bc") and ("ab","c")
// hash differently.
constexpr char kSep = '\xff';

void SortUnique(std::vector<Label>& v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  // Keep the last of each run of equal names.
  std::vector<Label> out;
  out.reserve(v.size());
  for (auto& l : v) {
    if (!out.empty() && out.back().name == l.name) {
      out.back() = std::move(l);
    } else {
      out.push_back(std::move(l));
    }
  }
  v = std::move(out);
}

}  // namespace

Labels::Labels(std::initializer_list<Label> labels) : labels_(labels) { SortUnique(labels_); }

Labels Labels::FromUnsorted(std::vector<Label> labels) {
  Labels l;
  l.labels_ = std::move(labels);
  SortUnique(l.labels_);
  return l;
}

Labels Labels::FromSorted(std::vector<Label> labels) {
  Labels l;
  l.labels_ = std::move(labels);
#ifndef NDEBUG
  for (size_t i = 1; i < l.labels_.size(); ++i) assert(l.labels_[i - 1].name < l.labels_[i].name);
#endif
  return l;
}

const Label* Labels::Find(std::string_view name) const {
  // Label sets are small; a linear scan beats binary search below ~16 entries.
  for (const auto& l : labels_) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

std::string_view Labels::Get(std::string_view name) const {
  const Label* l = Find(name);
  return l ? std::string_view(l->value) : std::string_view();
}

bool Labels::Has(std::string_view name) const { return Find(name) != nullptr; }

uint64_t Labels::Hash() const {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (const auto& l : labels_) {
    XXH3_64bits_update(&state, l.name.data(), l.name.size());
    XXH3_64bits_update(&state, &kSep, 1);
    XXH3_64bits_update(&state, l.value.data(), l.value.size());
    XXH3_64bits_update(&state, &kSep, 1);
  }
  return XXH3_64bits_digest(&state);
}

uint64_t Labels::HashFor(const std::vector<std::string>& names) const {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (const auto& n : names) {
    std::string_view v = Get(n);
    XXH3_64bits_update(&state, n.data(), n.size());
    XXH3_64bits_update(&state, &kSep, 1);
    XXH3_64bits_update(&state, v.data(), v.size());
    XXH3_64bits_update(&state, &kSep, 1);
  }
  return XXH3_64bits_digest(&state);
}

std::string Labels::ToString() const {
  std::string out;
  std::string_view name = Get(kMetricName);
  out += name;
  out += '{';
  bool first = true;
  for (const auto& l : labels_) {
    if (l.name == kMetricName) continue;
    if (!first) out += ", ";
    first = false;
    out += l.name;
    out += "=\"";
    for (char c : l.value) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '"':
          out += "\\\"";
          break;
        case '\n':
          out += "\\n";
          break;
        default:
          out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

size_t Labels::ByteSize() const {
  size_t n = 0;
  for (const auto& l : labels_) n += l.name.size() + l.value.size();
  return n;
}

void LabelsBuilder::Reset(const Labels& base) { labels_.assign(base.begin(), base.end()); }

void LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty()) {
    Del(name);
    return;
  }
  for (auto& l : labels_) {
    if (l.name == name) {
      l.value.assign(value);
      return;
    }
  }
  labels_.push_back(Label{std::string(name), std::string(value)});
}

void LabelsBuilder::Del(std::string_view name) {
  std::erase_if(labels_, [&](const Label& l) { return l.name == name; });
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  for (const auto& l : labels_) {
    if (l.name == name) return l.value;
  }
  return {};
}

bool LabelsBuilder::Has(std::string_view name) const {
  for (const auto& l : labels_) {
    if (l.name == name) return true;
  }
  return false;
}

void LabelsBuilder::Keep(const std::vector<std::string>& names) {
  std::erase_if(labels_, [&](const Label& l) {
    return std::find(names.begin(), names.end(), l.name) == names.end();
  });
}

Labels LabelsBuilder::Build() const {
  std::vector<Label> v = labels_;
  std::sort(v.begin(), v.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  return Labels::FromSorted(std::move(v));
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace shardwise
