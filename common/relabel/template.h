// Template: a replacement or target_label string with $-references, parsed once against a
// compiled regex and expanded per match with the exact rules of Go's regexp.Expand, which
// Prometheus uses:
//   $$            a literal "$"
//   $name ${name} a capture group by number or by name; a name is the longest run of
//                 letters, digits and '_' (so "$1x" is the group named "1x", usually empty)
//   unknown group, out-of-range number or group that did not participate: empty text
//   "$" not followed by a valid reference (e.g. "${x" or "$-"): a literal "$"
// Go counts any Unicode letter or digit in a name; here every non-ASCII byte counts as one,
// which differs only for non-ASCII punctuation right after a "$".
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>

namespace shardwise::relabel {

class Template {
 public:
  Template() = default;
  // `group_names` maps names to group numbers (RE2::NamedCapturingGroups());
  // `group_count` is RE2::NumberOfCapturingGroups().
  static Template Parse(std::string_view text, const std::map<std::string, int>& group_names,
                        int group_count);

  // True when the text contains no reference, so expansion always yields literal().
  bool is_literal() const { return is_literal_; }
  const std::string& literal() const { return text_; }
  // The highest group number referenced, or 0.
  int max_group() const { return max_group_; }

  // Appends the expansion to *out. groups[i] is group i of the match (groups[0] the whole
  // match); a null data() means the group did not participate. Groups past the end are empty.
  void AppendTo(std::span<const re2::StringPiece> groups, std::string* out) const;

 private:
  struct Piece {
    // A literal run of text_ (offsets, so copies and moves stay valid) when group < 0.
    size_t offset = 0;
    size_t length = 0;
    int group = -1;
  };
  std::string text_;
  std::vector<Piece> pieces_;
  bool is_literal_ = true;
  int max_group_ = 0;
};

}  // namespace shardwise::relabel
