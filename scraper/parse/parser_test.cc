#include "scraper/parse/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace shardwise::parse {
namespace {

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateset:
      return "stateset";
  }
  return "?";
}

// One line per entry, e.g.
//   S foo{a="b"} | foo{a="b"} = 1 @1500 # {trace_id="x"} 2 @3000
//   T foo counter / H foo text / U foo seconds / C # text / END / ERR line 1, column 2: ...
std::vector<std::string> Transcript(Format format, std::string_view body) {
  std::vector<std::string> out;
  auto p = Parser::New(format, body);
  for (int guard = 0; guard < 1000; ++guard) {
    const Entry e = p->Next();
    switch (e) {
      case Entry::kSeries: {
        LabelsBuilder b;
        p->Labels(b);
        std::string line =
            fmt::format("S {} | {} = {}", p->Series(), b.Build().ToString(), p->Value());
        if (p->TimestampMs()) line += fmt::format(" @{}", *p->TimestampMs());
        Exemplar ex;
        if (p->Exemplar(ex)) {
          line += fmt::format(" # {} {}", ex.labels.ToString(), ex.value);
          if (ex.timestamp_ms) line += fmt::format(" @{}", *ex.timestamp_ms);
        }
        if (p->IsCreatedSample()) line += " (created)";
        out.push_back(std::move(line));
        break;
      }
      case Entry::kType:
        out.push_back(fmt::format("T {} {}", p->FamilyName(), TypeName(p->Type())));
        break;
      case Entry::kHelp:
        out.push_back(fmt::format("H {} {}", p->FamilyName(), p->Help()));
        break;
      case Entry::kUnit:
        out.push_back(fmt::format("U {} {}", p->FamilyName(), p->Unit()));
        break;
      case Entry::kComment:
        out.push_back("C");
        break;
      case Entry::kEnd:
        out.push_back("END");
        return out;
      case Entry::kError:
        out.push_back("ERR " + p->error().message());
        EXPECT_EQ(p->error().code(), Status::Code::kInvalidArgument);
        return out;
    }
  }
  ADD_FAILURE() << "parser did not finish";
  return out;
}

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

struct FeatureCase {
  const char* name;
  Format format;
  std::string_view body;
  std::vector<std::string> want;
};

constexpr Format kText = Format::kPrometheusText;
constexpr Format kOM = Format::kOpenMetrics;

class FeatureTest : public ::testing::TestWithParam<FeatureCase> {};

TEST_P(FeatureTest, Transcript) {
  const auto& c = GetParam();
  EXPECT_THAT(Transcript(c.format, c.body), ElementsAreArray(c.want)) << c.body;
}

const FeatureCase kFeatureCases[] = {
    {"text_minimal", kText, "foo 1\n", {"S foo | foo{} = 1", "END"}},
    {"text_no_final_newline", kText, "foo 1", {"S foo | foo{} = 1", "END"}},
    {"text_empty_body", kText, "", {"END"}},
    {"text_labels",
     kText,
     "foo{b=\"2\",a=\"1\"} 3\n",
     {"S foo{b=\"2\",a=\"1\"} | foo{a=\"1\", b=\"2\"} = 3", "END"}},
    {"text_empty_label_set", kText, "foo{} 3\n", {"S foo{} | foo{} = 3", "END"}},
    {"text_no_blank_after_labels",
     kText,
     "foo{a=\"1\"}3\n",
     {"S foo{a=\"1\"} | foo{a=\"1\"} = 3", "END"}},
    {"text_trailing_comma",
     kText,
     "foo{a=\"1\",} 3\n",
     {"S foo{a=\"1\",} | foo{a=\"1\"} = 3", "END"}},
    {"text_whitespace_everywhere",
     kText,
     "\n  \t\n  foo { a = \"1\" , b=\"2\" }\t 3 \t 1000  \n\n",
     {"S foo { a = \"1\" , b=\"2\" } | foo{a=\"1\", b=\"2\"} = 3 @1000", "END"}},
    {"text_escapes",
     kText,
     R"(foo{a="x\\y\"z\nw",b="\t kept"} 1)",
     {R"(S foo{a="x\\y\"z\nw",b="\t kept"} | foo{a="x\\y\"z\nw", b="\\t kept"} = 1)", "END"}},
    {"text_utf8_label_value",
     kText,
     "foo{a=\"caf\xc3\xa9\"} 1\n",
     {"S foo{a=\"caf\xc3\xa9\"} | foo{a=\"caf\xc3\xa9\"} = 1", "END"}},
    {"om_label_value_with_hash_and_braces",
     kOM,
     "foo{a=\" # {x=\\\"1\\\"} 2\"} 1 # {t=\"}\"} 3\n# EOF\n",
     {"S foo{a=\" # {x=\\\"1\\\"} 2\"} | foo{a=\" # {x=\\\"1\\\"} 2\"} = 1 # {t=\"}\"} 3", "END"}},
    {"text_label_value_with_braces_and_hash",
     kText,
     "foo{a=\"} # {\"} 1\n",
     {"S foo{a=\"} # {\"} | foo{a=\"} # {\"} = 1", "END"}},
    {"text_empty_label_value_is_absent",
     kText,
     "foo{a=\"\"} 1\n",
     {"S foo{a=\"\"} | foo{} = 1", "END"}},
    {"text_metric_name_colons",
     kText,
     "job:foo:rate5m 1\n",
     {"S job:foo:rate5m | job:foo:rate5m{} = 1", "END"}},
    {"text_special_values",
     kText,
     "a +Inf\nb -Inf\nc Inf\nd 1e3\ne -0.5\nf .5\n",
     {"S a | a{} = inf", "S b | b{} = -inf", "S c | c{} = inf", "S d | d{} = 1000",
      "S e | e{} = -0.5", "S f | f{} = 0.5", "END"}},
    {"text_timestamps",
     kText,
     "a 1 1700000000123\nb 2 0\n",
     {"S a | a{} = 1 @1700000000123", "S b | b{} = 2 @0", "END"}},
    {"text_metadata",
     kText,
     "# HELP foo Some \\\\ help\\nwith \\\"quotes\\\".\n# TYPE foo counter\n# random comment\n"
     "#HELP not metadata\n# HELP\n# TYPE bar untyped\n# HELP baz\nfoo 1\n",
     {"H foo Some \\ help\nwith \\\"quotes\\\".", "T foo counter", "C", "C", "C", "T bar unknown",
      "H baz ", "S foo | foo{} = 1", "END"}},
    {"text_histogram",
     kText,
     "# TYPE h histogram\n"
     "h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 2.5\nh_count 3\n",
     {"T h histogram", "S h_bucket{le=\"0.5\"} | h_bucket{le=\"0.5\"} = 1",
      "S h_bucket{le=\"+Inf\"} | h_bucket{le=\"+Inf\"} = 3", "S h_sum | h_sum{} = 2.5",
      "S h_count | h_count{} = 3", "END"}},
    {"text_summary",
     kText,
     "# TYPE s summary\ns{quantile=\"0.99\"} NaN\ns_sum 1\ns_count 0\n",
     {"T s summary", "S s{quantile=\"0.99\"} | s{quantile=\"0.99\"} = nan", "S s_sum | s_sum{} = 1",
      "S s_count | s_count{} = 0", "END"}},
    {"text_eof_is_just_a_comment", kText, "# EOF\nfoo 1\n", {"C", "S foo | foo{} = 1", "END"}},

    {"om_minimal", kOM, "foo 1\n# EOF\n", {"S foo | foo{} = 1", "END"}},
    {"om_eof_without_newline", kOM, "foo 1\n# EOF", {"S foo | foo{} = 1", "END"}},
    {"om_only_eof", kOM, "# EOF\n", {"END"}},
    {"om_counter_total_created",
     kOM,
     "# TYPE foo counter\n# HELP foo A \\\"quoted\\\" help.\nfoo_total{a=\"b\"} 17 1.5\n"
     "foo_created{a=\"b\"} 1.6e+09\n# EOF\n",
     {"T foo counter", "H foo A \"quoted\" help.",
      "S foo_total{a=\"b\"} | foo_total{a=\"b\"} = 17 @1500",
      "S foo_created{a=\"b\"} | foo_created{a=\"b\"} = 1600000000 (created)", "END"}},
    {"om_created_only_for_the_typed_family",
     kOM,
     "# TYPE foo gauge\nfoo_created 1\n# TYPE bar counter\nbaz_created 1\n# EOF\n",
     {"T foo gauge", "S foo_created | foo_created{} = 1", "T bar counter",
      "S baz_created | baz_created{} = 1", "END"}},
    {"om_unit",
     kOM,
     "# TYPE req_seconds histogram\n# UNIT req_seconds seconds\n# UNIT x_bytes \n"
     "req_seconds_bucket{le=\"+Inf\"} 2\n# EOF\n",
     {"T req_seconds histogram", "U req_seconds seconds", "U x_bytes ",
      "S req_seconds_bucket{le=\"+Inf\"} | req_seconds_bucket{le=\"+Inf\"} = 2", "END"}},
    {"om_exemplars",
     kOM,
     "# TYPE h histogram\n"
     "h_bucket{le=\"1\"} 3 # {trace_id=\"abc\\\"d\"} 0.5 1.25\n"
     "h_bucket{le=\"+Inf\"} 4 2 # {} 7\n"
     "h_count 4\n"
     "c_total 1 # {a=\"1\",b=\"2\"} NaN\n# EOF\n",
     {"T h histogram",
      "S h_bucket{le=\"1\"} | h_bucket{le=\"1\"} = 3 # {trace_id=\"abc\\\"d\"} 0.5 @1250",
      "S h_bucket{le=\"+Inf\"} | h_bucket{le=\"+Inf\"} = 4 @2000 # {} 7",
      "S h_count | h_count{} = 4", "S c_total | c_total{} = 1 # {a=\"1\", b=\"2\"} nan", "END"}},
    {"om_types",
     kOM,
     "# TYPE a gaugehistogram\n# TYPE b info\n# TYPE c stateset\n# TYPE d unknown\n"
     "# TYPE e summary\n# TYPE f gauge\nb_info{v=\"1\"} 1\nc{c=\"x\"} 0\n# EOF\n",
     {"T a gaugehistogram", "T b info", "T c stateset", "T d unknown", "T e summary", "T f gauge",
      "S b_info{v=\"1\"} | b_info{v=\"1\"} = 1", "S c{c=\"x\"} | c{c=\"x\"} = 0", "END"}},
    {"om_trailing_comma",
     kOM,
     "foo{a=\"1\",} 1\n# EOF\n",
     {"S foo{a=\"1\",} | foo{a=\"1\"} = 1", "END"}},
    {"om_timestamp_rounding",
     kOM,
     "a 1 1700000000.123\nb 1 -1.5\nc 1 1\n# EOF\n",
     {"S a | a{} = 1 @1700000000123", "S b | b{} = 1 @-1500", "S c | c{} = 1 @1000", "END"}},
};

INSTANTIATE_TEST_SUITE_P(Parser, FeatureTest, ::testing::ValuesIn(kFeatureCases),
                         [](const auto& info) { return std::string(info.param.name); });

struct ErrorCase {
  const char* name;
  Format format;
  std::string_view body;
  std::string_view want;  // the full error message
};

class ErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorTest, ReportsLineAndColumn) {
  const auto& c = GetParam();
  const auto t = Transcript(c.format, c.body);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back(), "ERR " + std::string(c.want)) << c.body;
}

const ErrorCase kErrorCases[] = {
    // Names.
    {"bad_metric_name_start", kText, "0foo 1\n", "line 1, column 1: invalid metric name"},
    {"bad_metric_name_char", kText, "foo-bar 1\n",
     "line 1, column 4: invalid character in metric name"},
    {"no_metric_name", kText, "{a=\"b\"} 1\n", "line 1, column 1: expected metric name before '{'"},
    {"bad_label_name", kText, "foo{0a=\"b\"} 1\n", "line 1, column 5: invalid label name"},
    {"colon_in_label_name", kText, "foo{a:b=\"c\"} 1\n",
     "line 1, column 6: expected '=' after label name"},
    {"duplicate_label", kText, "foo{a=\"b\",a=\"c\"} 1\n",
     "line 1, column 11: duplicate label name \"a\""},
    {"duplicate_label_many", kText,
     "foo{a0=\"\",a1=\"\",a2=\"\",a3=\"\",a4=\"\",a5=\"\",a6=\"\",a7=\"\",a8=\"\",a9=\"\","
     "b0=\"\",b1=\"\",b2=\"\",b3=\"\",b4=\"\",b5=\"\",b6=\"\",b7=\"\",a3=\"\"} 1\n",
     "line 1, column 113: duplicate label name \"a3\""},
    {"reserved_name_label", kText, "foo{__name__=\"x\"} 1\n",
     "line 1, column 5: label name \"__name__\" is reserved for the metric name"},
    // Label syntax.
    {"missing_equals", kText, "foo{a \"b\"} 1\n",
     "line 1, column 7: expected '=' after label name"},
    {"unquoted_value", kText, "foo{a=b} 1\n",
     "line 1, column 7: expected '\"' to start label value"},
    {"missing_comma", kText, "foo{a=\"b\" c=\"d\"} 1\n",
     "line 1, column 11: expected ',' or '}' after label value"},
    {"unterminated_value", kText, "foo{a=\"b} 1\n", "line 1, column 7: unterminated label value"},
    {"extra_brace", kText, "foo{a=\"b\"}} 1\n",
     "line 1, column 11: unexpected text after label set"},
    {"brace_in_value_then_garbage", kText, "foo{a=\"}\"} 1 }\n",
     "line 1, column 15: expected value after metric"},
    {"om_hash_in_label_value_then_error", kOM, "foo{a=\"#\",0=\"\"} 1\n# EOF\n",
     "line 1, column 11: invalid label name"},
    {"unclosed_block", kText, "foo{a=\"b\"\n",
     "line 1, column 10: expected ',' or '}' after label value"},
    {"escape_at_end_of_line", kText, "foo{a=\"\\\n", "line 1, column 7: unterminated label value"},
    {"invalid_utf8_value", kText, "foo{a=\"\xff\"} 1\n",
     "line 1, column 8: invalid UTF-8 in label value"},
    {"om_no_space_after_labels", kOM, "foo{a=\"b\"}1\n# EOF\n",
     "line 1, column 11: expected ' ' after label set"},
    {"no_value_after_labels", kText, "foo{a=\"b\"}\n",
     "line 1, column 11: expected value after metric"},
    // Values and timestamps.
    {"missing_value", kText, "foo\n", "line 1, column 4: expected value after metric"},
    {"missing_value_after_labels", kText, "foo{a=\"b\"}  \n",
     "line 1, column 13: expected value after metric"},
    {"bad_value", kText, "foo 1x\n", "line 1, column 5: invalid value \"1x\""},
    {"hex_value", kText, "foo 0x10\n", "line 1, column 5: invalid value \"0x10\""},
    {"bad_timestamp", kText, "foo 1 12a\n", "line 1, column 7: invalid timestamp \"12a\""},
    // Prometheus's text lexer takes digits only ({D}+).
    {"negative_timestamp", kText, "foo 1 -5\n", "line 1, column 7: invalid timestamp \"-5\""},
    {"float_timestamp_in_text", kText, "foo 1 1.5\n",
     "line 1, column 7: invalid timestamp \"1.5\""},
    {"timestamp_overflow", kText, "foo 1 9223372036854775808\n",
     "line 1, column 7: invalid timestamp \"9223372036854775808\""},
    {"garbage_after_timestamp", kText, "foo 1 2 3\n",
     "line 1, column 9: unexpected text after timestamp"},
    {"exemplar_after_labels_in_text", kText, "foo{a=\"b\"} 1 # {x=\"y\"} 2\n",
     "line 1, column 11: unexpected text after label set"},
    {"exemplar_in_text", kText, "foo 1 # {a=\"b\"} 1\n",
     "line 1, column 7: invalid timestamp \"#\""},
    {"error_on_later_line", kText, "a 1\n\n# c\nb{ 1\n", "line 4, column 4: invalid label name"},
    // Metadata.
    {"bad_type", kText, "# TYPE foo bogus\n", "line 1, column 12: invalid metric type \"bogus\""},
    {"om_type_in_text", kText, "# TYPE foo unknown\n",
     "line 1, column 12: invalid metric type \"unknown\""},
    {"missing_type", kText, "# TYPE foo\n", "line 1, column 11: expected metric type in # TYPE"},
    {"bad_help_name", kText, "# HELP 0x y\n",
     "line 1, column 8: expected metric name in # HELP, # TYPE or # UNIT"},
    {"help_invalid_utf8", kText, "# HELP foo bad \xc3\x28\n",
     "line 1, column 12: invalid UTF-8 in help text"},

    // OpenMetrics structure.
    {"om_missing_eof", kOM, "foo 1\n",
     "line 2, column 1: OpenMetrics input must end with \"# EOF\""},
    {"om_missing_eof_no_newline", kOM, "foo 1",
     "line 1, column 6: OpenMetrics input must end with \"# EOF\""},
    {"om_empty_body", kOM, "", "line 1, column 1: OpenMetrics input must end with \"# EOF\""},
    {"om_data_after_eof", kOM, "# EOF\nfoo 1\n",
     "line 2, column 1: unexpected data after \"# EOF\""},
    {"om_newline_after_eof", kOM, "# EOF\n\n", "line 2, column 1: unexpected data after \"# EOF\""},
    {"om_empty_line", kOM, "foo 1\n\n# EOF\n", "line 2, column 1: empty line"},
    {"om_free_comment", kOM, "# hello\n# EOF\n",
     "line 1, column 1: invalid comment: OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF"},
    {"om_leading_space", kOM, " foo 1\n# EOF\n", "line 1, column 1: invalid metric name"},
    {"om_two_spaces", kOM, "foo  1\n# EOF\n", "line 1, column 5: invalid value \"\""},
    {"om_tab_separator", kOM, "foo\t1\n# EOF\n",
     "line 1, column 4: invalid character in metric name"},
    {"om_space_in_labels", kOM, "foo{a=\"b\", c=\"d\"} 1\n# EOF\n",
     "line 1, column 11: invalid label name"},
    {"om_trailing_space", kOM, "foo 1 \n# EOF\n", "line 1, column 7: trailing space after value"},
    {"om_untyped", kOM, "# TYPE foo untyped\n# EOF\n",
     "line 1, column 12: invalid metric type \"untyped\""},
    {"om_bad_unit", kOM, "# UNIT foo_seconds bytes\n# EOF\n",
     "line 1, column 20: unit \"bytes\" is not a suffix of metric \"foo_seconds\""},
    {"om_nan_timestamp", kOM, "foo 1 NaN\n# EOF\n", "line 1, column 7: invalid timestamp \"NaN\""},
    {"om_garbage_after_timestamp", kOM, "foo 1 2 3\n# EOF\n",
     "line 1, column 9: unexpected text after timestamp"},
    // Exemplars.
    {"om_exemplar_without_space", kOM, "c_total 1 #{a=\"b\"} 1\n# EOF\n",
     "line 1, column 11: expected exemplar \"# {labels} value\""},
    {"om_exemplar_without_value", kOM, "c_total 1 # {a=\"b\"}\n# EOF\n",
     "line 1, column 20: expected exemplar value"},
    {"om_exemplar_bad_value", kOM, "c_total 1 # {a=\"b\"} x\n# EOF\n",
     "line 1, column 21: invalid exemplar value \"x\""},
    {"om_exemplar_bad_timestamp", kOM, "c_total 1 # {a=\"b\"} 1 y\n# EOF\n",
     "line 1, column 23: invalid exemplar timestamp \"y\""},
    {"om_exemplar_trailing", kOM, "c_total 1 # {a=\"b\"} 1 2 3\n# EOF\n",
     "line 1, column 24: unexpected text after exemplar"},
    {"om_exemplar_bad_labels", kOM, "c_total 1 # {a=b} 1\n# EOF\n",
     "line 1, column 16: expected '\"' to start label value"},
};

INSTANTIATE_TEST_SUITE_P(Parser, ErrorTest, ::testing::ValuesIn(kErrorCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ParserTest, LabelBlockIsCheckedByLabelsNotByNext) {
  // A known series costs no label work: Next() only finds the block's bounds...
  const std::string_view body = "ok{a=\"1\"} 1\nbad{a=\"1\",a=\"2\"} 2\nlater 3\n";
  auto unchecked = Parser::New(kText, body);
  EXPECT_EQ(unchecked->Next(), Entry::kSeries);
  EXPECT_EQ(unchecked->Next(), Entry::kSeries);
  EXPECT_EQ(unchecked->Series(), "bad{a=\"1\",a=\"2\"}");
  EXPECT_EQ(unchecked->Next(), Entry::kSeries);
  EXPECT_EQ(unchecked->Next(), Entry::kEnd);

  // ...and Labels() on a new series checks it: the builder stays empty and the parse fails.
  auto checked = Parser::New(kText, body);
  LabelsBuilder b;
  ASSERT_EQ(checked->Next(), Entry::kSeries);
  checked->Labels(b);
  EXPECT_EQ(b.Build().size(), 2u);
  ASSERT_EQ(checked->Next(), Entry::kSeries);
  checked->Labels(b);
  EXPECT_TRUE(b.Build().empty());
  EXPECT_EQ(checked->Next(), Entry::kError);
  EXPECT_EQ(checked->error().message(), "line 2, column 11: duplicate label name \"a\"");
  EXPECT_EQ(checked->Next(), Entry::kError);
}

TEST(ParserTest, ErrorAndEndAreSticky) {
  auto p = Parser::New(kText, "foo 1\nbar{\n");
  EXPECT_EQ(p->Next(), Entry::kSeries);
  EXPECT_EQ(p->Next(), Entry::kError);
  EXPECT_EQ(p->Next(), Entry::kError);
  auto q = Parser::New(kOM, "# EOF\n");
  EXPECT_EQ(q->Next(), Entry::kEnd);
  EXPECT_EQ(q->Next(), Entry::kEnd);
}

TEST(ParserTest, NaNIsCanonicalSoTargetsCannotForgeStaleMarkers) {
  // 0x7ff0000000000002 is the staleness marker; every exposed NaN becomes Prometheus's
  // "normal" NaN instead.
  auto p = Parser::New(kText, "a NaN\n");
  ASSERT_EQ(p->Next(), Entry::kSeries);
  uint64_t bits;
  const double v = p->Value();
  std::memcpy(&bits, &v, sizeof bits);
  EXPECT_EQ(bits, 0x7ff8000000000001ULL);
}

TEST(ParserTest, SeriesPointsIntoTheBody) {
  const std::string body = "foo{a=\"b\"} 1 5 \n";
  auto p = Parser::New(kText, body);
  ASSERT_EQ(p->Next(), Entry::kSeries);
  EXPECT_EQ(p->Series().data(), body.data());
  EXPECT_EQ(p->Series(), "foo{a=\"b\"}");
  EXPECT_EQ(p->TimestampMs(), 5);
}

TEST(ParserTest, LabelsResetsTheBuilder) {
  auto p = Parser::New(kText, "foo{a=\"1\"} 1\n");
  ASSERT_EQ(p->Next(), Entry::kSeries);
  LabelsBuilder b;
  b.Set("stale", "x");
  p->Labels(b);
  EXPECT_EQ(b.Build(), (shardwise::Labels{{"__name__", "foo"}, {"a", "1"}}));
}

TEST(ParserTest, NoExemplarWithoutOne) {
  auto p = Parser::New(kOM, "c_total 1\n# EOF\n");
  ASSERT_EQ(p->Next(), Entry::kSeries);
  Exemplar ex;
  EXPECT_FALSE(p->Exemplar(ex));
}

TEST(ParserTest, LabelValueWithNulBytesIsBounded) {
  constexpr char kBody[] = "foo{a=\"x\0y\"} 1\n";
  constexpr char kWant[] = "S foo{a=\"x\0y\"} | foo{a=\"x\0y\"} = 1";
  EXPECT_THAT(Transcript(kText, std::string_view(kBody, sizeof kBody - 1)),
              ElementsAre(std::string(kWant, sizeof kWant - 1), "END"));
}

TEST(FormatFromContentTypeTest, SelectsOpenMetricsOnlyForItsMediaType) {
  EXPECT_EQ(FormatFromContentType("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType("application/openmetrics-text;version=0.0.1"),
            Format::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType("Application/OpenMetrics-Text"), Format::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType(" application/openmetrics-text "), Format::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType("text/plain; version=0.0.4; charset=utf-8"),
            Format::kPrometheusText);
  EXPECT_EQ(FormatFromContentType(""), Format::kPrometheusText);
  EXPECT_EQ(FormatFromContentType("application/json"), Format::kPrometheusText);
  EXPECT_EQ(FormatFromContentType("application/openmetrics-textx"), Format::kPrometheusText);
}

}  // namespace
}  // namespace shardwise::parse
