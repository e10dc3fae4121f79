#include "common/relabel/template.h"

namespace shardwise::relabel {
namespace {

bool IsNameByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

// Parses a reference after a '$' as Go's regexp extract() does. On success sets *name and
// *consumed (bytes after the '$', including braces).
bool ExtractReference(std::string_view s, std::string_view* name, size_t* consumed) {
  if (s.empty()) return false;
  bool brace = s[0] == '{';
  size_t start = brace ? 1 : 0;
  size_t i = start;
  while (i < s.size() && IsNameByte(static_cast<unsigned char>(s[i]))) ++i;
  if (i == start) return false;
  *name = s.substr(start, i - start);
  if (brace) {
    if (i >= s.size() || s[i] != '}') return false;
    ++i;
  }
  *consumed = i;
  return true;
}

// Go's rule: all digits, no leading zero (except "0" itself), below 1e8; else -1.
int GroupNumber(std::string_view name) {
  int num = 0;
  for (char c : name) {
    if (c < '0' || c > '9' || num >= 100000000) return -1;
    num = num * 10 + (c - '0');
  }
  if (name.size() > 1 && name[0] == '0') return -1;
  return num;
}

}  // namespace

Template Template::Parse(std::string_view text, const std::map<std::string, int>& group_names,
                         int group_count) {
  Template t;
  t.text_.assign(text);
  std::string_view s = t.text_;
  // Literal runs are ranges of text_, except that "$$" and malformed "$" each contribute a
  // single '$', which is the '$' byte itself in text_.
  size_t literal_start = 0;
  auto flush = [&](size_t end) {
    if (end > literal_start) t.pieces_.push_back({literal_start, end - literal_start, -1});
  };
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '$') {
      ++i;
      continue;
    }
    flush(i);
    if (i + 1 < s.size() && s[i + 1] == '$') {
      t.is_literal_ = false;  // the text differs from its expansion
      t.pieces_.push_back({i, 1, -1});
      i += 2;
      literal_start = i;
      continue;
    }
    std::string_view name;
    size_t consumed = 0;
    if (!ExtractReference(s.substr(i + 1), &name, &consumed)) {
      // Malformed: the '$' stays as text and scanning resumes right after it.
      literal_start = i;
      ++i;
      continue;
    }
    t.is_literal_ = false;
    int group = GroupNumber(name);
    if (group < 0) {
      auto it = group_names.find(std::string(name));
      group = it == group_names.end() ? -1 : it->second;
    }
    if (group >= 0 && group <= group_count) {
      t.pieces_.push_back({0, 0, group});
      if (group > t.max_group_) t.max_group_ = group;
    }
    // Unknown groups expand to nothing: no piece at all.
    i += 1 + consumed;
    literal_start = i;
  }
  flush(s.size());
  return t;
}

void Template::AppendTo(std::span<const re2::StringPiece> groups, std::string* out) const {
  for (const Piece& p : pieces_) {
    if (p.group < 0) {
      out->append(text_, p.offset, p.length);
    } else if (static_cast<size_t>(p.group) < groups.size() && groups[p.group].data() != nullptr) {
      out->append(groups[p.group].data(), groups[p.group].size());
    }
  }
}

}  // namespace shardwise::relabel
