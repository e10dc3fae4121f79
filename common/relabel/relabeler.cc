#include "common/relabel/relabeler.h"

#include <locale.h>
#include <openssl/evp.h>
#include <re2/re2.h>
#include <wctype.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <string>

#include "common/relabel/template.h"

namespace shardwise::relabel {

struct Relabeler::Rule {
  RelabelConfig config;
  std::shared_ptr<const RE2> regex;
  // The default "(.*)" matches any value without a newline as group 1 = whole value, so
  // the common "copy a label" rule needs no regex run.
  bool match_all = false;
  Template target;
  Template replacement;
  int groups_needed = 0;  // capture groups (plus the whole match) that templates read
};

namespace {

using Rule = Relabeler::Rule;

constexpr size_t kMaxStackGroups = 16;

// Per-thread scratch space so the hot path does not allocate once warmed up.
struct Scratch {
  std::string joined;
  std::string target;
  std::string value;
  std::vector<re2::StringPiece> groups;
  std::vector<std::string> names;
  std::vector<Label> snapshot;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

re2::StringPiece Piece(std::string_view s) { return re2::StringPiece(s.data(), s.size()); }

bool FullMatch(const RE2& re, std::string_view text) {
  return re.Match(Piece(text), 0, text.size(), RE2::ANCHOR_BOTH, nullptr, 0);
}

// The source label values joined by the separator. Avoids copying when there is one source.
std::string_view SourceValue(const RelabelConfig& c, const LabelsBuilder& lb, std::string* buf) {
  if (c.source_labels.size() == 1) return lb.Get(c.source_labels[0]);
  buf->clear();
  for (size_t i = 0; i < c.source_labels.size(); ++i) {
    if (i > 0) buf->append(c.separator);
    buf->append(lb.Get(c.source_labels[i]));
  }
  return *buf;
}

uint64_t HashMod(std::string_view value, uint64_t modulus) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(value.data(), value.size(), digest.data(), &len, EVP_md5(), nullptr);
  // Prometheus takes the last 8 of md5's 16 bytes as a big-endian integer.
  uint64_t h = 0;
  for (size_t i = 8; i < 16; ++i) h = (h << 8) | digest[i];
  return h % modulus;
}

// Decodes one UTF-8 sequence at s[i]; returns U+FFFD and length 1 for invalid input, as Go.
char32_t DecodeUtf8(std::string_view s, size_t i, size_t* len) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 1;
  *len = 1;
  if (n == 1 || b0 >= 0xF8 || i + n > s.size()) return 0xFFFD;
  char32_t c = b0 & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0xFFFD;
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0xFFFD;
  *len = n;
  return c;
}

void EncodeUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Go's strings.ToLower/ToUpper: simple per-rune Unicode case mapping. glibc's C.UTF-8
// locale carries the same simple mappings; without it only ASCII letters change.
char32_t MapCase(char32_t c, bool upper) {
  static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  if (c < 0x80 || kUtf8 == static_cast<locale_t>(0)) {
    if (upper && c >= 'a' && c <= 'z') return c - 'a' + 'A';
    if (!upper && c >= 'A' && c <= 'Z') return c - 'A' + 'a';
    return c;
  }
  wint_t w = static_cast<wint_t>(c);
  return static_cast<char32_t>(upper ? towupper_l(w, kUtf8) : towlower_l(w, kUtf8));
}

void SetCase(LabelsBuilder& lb, const std::string& target, std::string_view value, bool upper,
             std::string* buf) {
  buf->clear();
  for (size_t i = 0; i < value.size();) {
    if (static_cast<unsigned char>(value[i]) < 0x80) {
      buf->push_back(static_cast<char>(MapCase(static_cast<unsigned char>(value[i]), upper)));
      ++i;
      continue;
    }
    size_t len = 1;
    char32_t c = DecodeUtf8(value, i, &len);
    EncodeUtf8(MapCase(c, upper), buf);
    i += len;
  }
  lb.Set(target, *buf);
}

void Replace(const Rule& rule, std::string_view value, LabelsBuilder& lb, Scratch& s) {
  const RelabelConfig& c = rule.config;
  if (value.empty() && rule.match_all && rule.target.is_literal() &&
      rule.replacement.is_literal()) {
    lb.Set(c.target_label, c.replacement);  // an empty replacement deletes
    return;
  }
  std::array<re2::StringPiece, kMaxStackGroups> stack_groups;
  std::span<re2::StringPiece> groups;
  if (rule.groups_needed <= static_cast<int>(kMaxStackGroups)) {
    groups = std::span(stack_groups.data(), rule.groups_needed);
  } else {
    s.groups.assign(rule.groups_needed, re2::StringPiece());
    groups = std::span(s.groups);
  }
  if (rule.match_all && value.find('\n') == std::string_view::npos) {
    for (auto& g : groups) g = Piece(value);
  } else if (!rule.regex->Match(Piece(value), 0, value.size(), RE2::ANCHOR_BOTH, groups.data(),
                                static_cast<int>(groups.size()))) {
    return;  // no match: no replacement
  }
  std::string_view target = c.target_label;
  if (!rule.target.is_literal()) {
    s.target.clear();
    rule.target.AppendTo(groups, &s.target);
    if (!IsValidLabelName(s.target)) return;
    target = s.target;
  }
  s.value.clear();
  rule.replacement.AppendTo(groups, &s.value);
  // `value` and the groups may point into the builder; both are consumed by now.
  lb.Set(target, s.value);
}

void LabelMap(const Rule& rule, LabelsBuilder& lb, Scratch& s) {
  s.snapshot.clear();
  lb.ForEach([&](const std::string& name, const std::string& value) {
    s.snapshot.push_back(Label{name, value});
  });
  std::array<re2::StringPiece, kMaxStackGroups> stack_groups;
  std::span<re2::StringPiece> groups;
  if (rule.groups_needed <= static_cast<int>(kMaxStackGroups)) {
    groups = std::span(stack_groups.data(), rule.groups_needed);
  } else {
    s.groups.assign(rule.groups_needed, re2::StringPiece());
    groups = std::span(s.groups);
  }
  for (const Label& l : s.snapshot) {
    if (!rule.regex->Match(Piece(l.name), 0, l.name.size(), RE2::ANCHOR_BOTH, groups.data(),
                           static_cast<int>(groups.size()))) {
      continue;
    }
    s.target.clear();
    rule.replacement.AppendTo(groups, &s.target);
    if (!s.target.empty()) lb.Set(s.target, l.value);
  }
}

void LabelFilter(const Rule& rule, LabelsBuilder& lb, bool keep_matching, Scratch& s) {
  s.names.clear();
  lb.ForEach([&](const std::string& name, const std::string&) {
    if (FullMatch(*rule.regex, name) != keep_matching) s.names.push_back(name);
  });
  for (const auto& name : s.names) lb.Del(name);
}

bool Apply(const Rule& rule, LabelsBuilder& lb, Scratch& s) {
  const RelabelConfig& c = rule.config;
  std::string_view value = SourceValue(c, lb, &s.joined);
  switch (c.action) {
    case Action::kDrop:
      return !FullMatch(*rule.regex, value);
    case Action::kKeep:
      return FullMatch(*rule.regex, value);
    case Action::kDropEqual:
      return lb.Get(c.target_label) != value;
    case Action::kKeepEqual:
      return lb.Get(c.target_label) == value;
    case Action::kReplace:
      Replace(rule, value, lb, s);
      return true;
    case Action::kLowercase:
    case Action::kUppercase:
      SetCase(lb, c.target_label, value, c.action == Action::kUppercase, &s.value);
      return true;
    case Action::kHashMod: {
      std::array<char, 24> digits;
      auto [end, ec] = std::to_chars(digits.begin(), digits.end(), HashMod(value, c.modulus));
      lb.Set(c.target_label, std::string_view(digits.data(), end - digits.data()));
      return true;
    }
    case Action::kLabelMap:
      LabelMap(rule, lb, s);
      return true;
    case Action::kLabelDrop:
      LabelFilter(rule, lb, /*keep_matching=*/false, s);
      return true;
    case Action::kLabelKeep:
      LabelFilter(rule, lb, /*keep_matching=*/true, s);
      return true;
  }
  return true;
}

}  // namespace

Result<Relabeler> Relabeler::Compile(std::vector<RelabelConfig> configs) {
  auto rules = std::make_shared<std::vector<Rule>>();
  rules->reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    Status st = Validate(configs[i]);
    if (!st.ok()) return st.WithContext("relabel rule " + std::to_string(i));
    Rule rule;
    rule.config = configs[i];
    RE2::Options options;
    options.set_log_errors(false);
    rule.regex = std::make_shared<const RE2>("^(?:" + rule.config.regex + ")$", options);
    rule.match_all = rule.config.regex == kDefaultRegex;
    const auto& names = rule.regex->NamedCapturingGroups();
    int count = rule.regex->NumberOfCapturingGroups();
    rule.target = Template::Parse(rule.config.target_label, names, count);
    rule.replacement = Template::Parse(rule.config.replacement, names, count);
    rule.groups_needed = std::max(rule.target.max_group(), rule.replacement.max_group()) + 1;
    rules->push_back(std::move(rule));
  }
  Relabeler r;
  r.rules_ = std::move(rules);
  r.configs_ = std::make_shared<const std::vector<RelabelConfig>>(std::move(configs));
  return r;
}

const std::vector<RelabelConfig>& Relabeler::configs() const {
  static const std::vector<RelabelConfig> kNone;
  return configs_ == nullptr ? kNone : *configs_;
}

bool Relabeler::Process(LabelsBuilder& labels) const {
  if (rules_ == nullptr) return true;
  Scratch& scratch = ThreadScratch();
  for (const Rule& rule : *rules_) {
    if (!Apply(rule, labels, scratch)) return false;
  }
  return true;
}

std::optional<Labels> Relabeler::Process(const Labels& labels) const {
  LabelsBuilder lb(labels);
  if (!Process(lb)) return std::nullopt;
  return lb.Build();
}

}  // namespace shardwise::relabel
