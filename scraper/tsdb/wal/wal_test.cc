#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "scraper/tsdb/wal/reader.h"
#include "scraper/tsdb/wal/writer.h"

namespace shardwise::tsdb::wal {
namespace {

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wal_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Payload(int i) { return "record-" + std::to_string(i) + std::string(i % 50, 'x'); }

  std::vector<std::string> ReplayAll(ReplayReport* report = nullptr) {
    std::vector<std::string> out;
    auto r = Replay(dir_, {}, [&](Position, std::string_view p) {
      out.emplace_back(p);
      return Status::OK();
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (report && r.ok()) *report = *r;
    return out;
  }

  void FlipByte(uint32_t segment, uint64_t offset) {
    std::fstream f(SegmentPath(dir_.string(), segment),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

  std::filesystem::path dir_;
};

TEST_F(WalTest, SegmentNames) {
  EXPECT_EQ(SegmentName(0), "00000000");
  EXPECT_EQ(SegmentName(123), "00000123");
  uint32_t i;
  EXPECT_TRUE(ParseSegmentName("00000042", &i));
  EXPECT_EQ(i, 42u);
  EXPECT_FALSE(ParseSegmentName("0000042", &i));
  EXPECT_FALSE(ParseSegmentName("0000004x", &i));
  EXPECT_FALSE(ParseSegmentName("checkpoint.00000001", &i));
}

TEST_F(WalTest, RoundTripAcrossSegments) {
  {
    auto w = Writer::Open(dir_, {.segment_size = 4096});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE((*w)->Write(Payload(i)).ok());
  }
  ReplayReport report;
  auto got = ReplayAll(&report);
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[i], Payload(i));
  EXPECT_GT(report.segments.size(), 5u);
  EXPECT_TRUE(report.damage.empty());
  for (uint32_t s : report.segments) {
    EXPECT_LE(*FileSize(SegmentPath(dir_.string(), s)), 4096u);
  }
}

TEST_F(WalTest, OpenStartsFreshSegment) {
  { ASSERT_TRUE((*Writer::Open(dir_, {}))->Write("a").ok()); }
  auto w = Writer::Open(dir_, {});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->End(), (Position{1, 0}));
  ASSERT_TRUE((*w)->Write("b").ok());
  w->reset();
  EXPECT_EQ(ReplayAll(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(WalTest, TornTailIsTruncated) {
  {
    auto w = Writer::Open(dir_, {});
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*w)->Write(Payload(i)).ok());
  }
  std::string path = SegmentPath(dir_.string(), 0);
  uint64_t full = *FileSize(path);
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(full - 3)), 0);
  ReplayReport report;
  auto got = ReplayAll(&report);
  EXPECT_EQ(got.size(), 9u);
  ASSERT_EQ(report.damage.size(), 1u);
  EXPECT_TRUE(report.damage[0].torn_tail);
  EXPECT_EQ(report.damage[0].at.segment, 0u);
  uint64_t good = *FileSize(path);
  EXPECT_EQ(report.damage[0].at.offset, good);
  EXPECT_LT(good, full - 3);
  // Replaying again finds a clean log.
  {
    ReplayReport again;
    EXPECT_EQ(ReplayAll(&again).size(), 9u);
    EXPECT_TRUE(again.damage.empty());
  }
}

TEST_F(WalTest, FlippedByteMidLogIsReportedAndReplayContinues) {
  std::vector<Position> starts;
  {
    auto w = Writer::Open(dir_, {.segment_size = 2048});
    for (int i = 0; i < 200; ++i) {
      Position p;
      ASSERT_TRUE((*w)->Write(Payload(i), &p).ok());
      starts.push_back(p);
    }
  }
  ASSERT_GT(starts.back().segment, 2u);
  // Corrupt the payload of a record in the middle of segment 1.
  int victim = -1;
  for (int i = 0; i < 200; ++i) {
    if (starts[i].segment == 1 && i + 1 < 200 && starts[i + 1].segment == 1 && victim < 0 &&
        starts[i].offset > 200) {
      victim = i;
    }
  }
  ASSERT_GE(victim, 0);
  FlipByte(1, starts[victim].offset + kFragmentHeaderSize + 2);
  ReplayReport report;
  auto got = ReplayAll(&report);
  ASSERT_EQ(report.damage.size(), 1u);
  EXPECT_FALSE(report.damage[0].torn_tail);
  EXPECT_EQ(report.damage[0].at, starts[victim]);
  EXPECT_NE(report.damage[0].ToString().find("segment 00000001 at offset " +
                                             std::to_string(starts[victim].offset)),
            std::string::npos);
  // Everything before the victim and everything from segment 2 on is there.
  int first_of_2 = 0;
  while (starts[first_of_2].segment < 2) ++first_of_2;
  std::vector<std::string> want;
  for (int i = 0; i < victim; ++i) want.push_back(Payload(i));
  for (int i = first_of_2; i < 200; ++i) want.push_back(Payload(i));
  EXPECT_EQ(got, want);
  // Mid-log damage is not repaired away: the segment is left for inspection.
  EXPECT_GT(*FileSize(SegmentPath(dir_.string(), 1)), starts[victim].offset);
}

TEST_F(WalTest, ReadAllRecordsRejectsDamage) {
  {
    auto w = Writer::Open(dir_, {});
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*w)->Write(Payload(i)).ok());
  }
  int n = 0;
  std::string path = SegmentPath(dir_.string(), 0);
  ASSERT_TRUE(ReadAllRecords(path, [&](std::string_view) {
                ++n;
                return Status::OK();
              }).ok());
  EXPECT_EQ(n, 5);
  FlipByte(0, 12);
  Status st = ReadAllRecords(path, [](std::string_view) { return Status::OK(); });
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
}

TEST_F(WalTest, TailerFollowsWriterAcrossSegments) {
  auto w = Writer::Open(dir_, {.segment_size = 1024});
  ASSERT_TRUE(w.ok());
  Tailer tailer(dir_.string(), {0, 0});
  std::vector<std::string> seen;
  auto drain = [&] {
    for (;;) {
      auto r = tailer.Next();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (!r->has_value()) return;
      seen.emplace_back((*r)->payload);
    }
  };
  drain();
  EXPECT_TRUE(seen.empty());
  int written = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 7; ++i) ASSERT_TRUE((*w)->Write(Payload(written++)).ok());
    drain();
    ASSERT_EQ(seen.size(), static_cast<size_t>(written));
  }
  for (int i = 0; i < written; ++i) EXPECT_EQ(seen[i], Payload(i));
  EXPECT_EQ(tailer.position(), (*w)->End());
  EXPECT_TRUE(tailer.damage().empty());
}

TEST_F(WalTest, TailerReadsAnOpenSegmentToItsEndAndReportsSegmentsDeletedAfterIt) {
  // The tailer keeps its segment open. Deleted under it (retention), the segment is still
  // read to its end; when the segments after it are gone too, Next() fails so that the
  // caller resumes at the oldest one left, as when opening a deleted segment fails.
  auto w = Writer::Open(dir_, {.segment_size = 512});
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->Write(Payload(i)).ok());
  Tailer tailer(dir_.string(), {0, 0});
  auto r = tailer.Next();
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->payload, Payload(0));
  int written = 3;
  while ((*w)->End().segment < 3) ASSERT_TRUE((*w)->Write(Payload(written++)).ok());
  std::filesystem::remove(SegmentPath(dir_.string(), 0));
  std::filesystem::remove(SegmentPath(dir_.string(), 1));
  std::vector<std::string> seen;
  for (;;) {
    r = tailer.Next();
    if (!r.ok() || !r->has_value()) break;
    seen.emplace_back((*r)->payload);
    ASSERT_EQ(tailer.position().segment, 0u) << "segment 1 was deleted; it cannot be read";
  }
  ASSERT_FALSE(r.ok()) << "the deleted segments after the open one must be reported";
  EXPECT_GT(seen.size(), 2u) << "records written after the first read, before the deletion";
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], Payload(static_cast<int>(i) + 1));
  EXPECT_EQ(tailer.position().segment, 0u);
}

TEST_F(WalTest, TailerSkipsDamageInFinishedSegmentAndReportsIt) {
  std::vector<Position> starts;
  {
    auto w = Writer::Open(dir_, {.segment_size = 512});
    for (int i = 0; i < 40; ++i) {
      Position p;
      ASSERT_TRUE((*w)->Write(Payload(i), &p).ok());
      starts.push_back(p);
    }
  }
  int victim = 0;
  while (starts[victim].segment != 1) ++victim;
  FlipByte(1, starts[victim].offset + kFragmentHeaderSize);
  Tailer tailer(dir_.string(), {0, 0});
  std::vector<std::string> seen;
  for (;;) {
    auto r = tailer.Next();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (!r->has_value()) break;
    seen.emplace_back((*r)->payload);
  }
  ASSERT_EQ(tailer.damage().size(), 1u);
  EXPECT_EQ(tailer.damage()[0].at, starts[victim]);
  int after = victim;
  while (starts[after].segment == 1) ++after;
  EXPECT_EQ(seen.size(), static_cast<size_t>(victim + (40 - after)));
  EXPECT_EQ(seen.back(), Payload(39));
}

TEST_F(WalTest, TailerResumesFromAcknowledgedPosition) {
  std::vector<Position> starts;
  {
    auto w = Writer::Open(dir_, {.segment_size = 512});
    for (int i = 0; i < 50; ++i) {
      Position p;
      ASSERT_TRUE((*w)->Write(Payload(i), &p).ok());
      starts.push_back(p);
    }
  }
  Tailer tailer(dir_.string(), starts[23]);
  for (int i = 23; i < 50; ++i) {
    auto r = tailer.Next();
    ASSERT_TRUE(r.ok() && r->has_value()) << i;
    EXPECT_EQ((*r)->at, starts[i]);
    EXPECT_EQ((*r)->payload, Payload(i));
  }
}

TEST_F(WalTest, RecordsLargerThanAPageAreFragmentedAndReadBack) {
  std::vector<std::string> want;
  std::vector<Position> starts;
  {
    auto w = Writer::Open(dir_, {.segment_size = 1 << 20});
    ASSERT_TRUE(w.ok());
    std::mt19937 rng(3);
    for (int i = 0; i < 60; ++i) {
      // Sizes around page multiples and small records in between, so fragments start at
      // every kind of page offset, including the padding zone at a page's end.
      size_t n = (i % 3 == 0) ? kPageSize * (1 + i % 4) + (rng() % 200) - 100 : 1 + rng() % 40;
      std::string p(n, '\0');
      for (auto& c : p) c = static_cast<char>(rng());
      Position at;
      ASSERT_TRUE((*w)->Write(p, &at).ok());
      want.push_back(std::move(p));
      starts.push_back(at);
    }
  }
  ReplayReport report;
  EXPECT_EQ(ReplayAll(&report), want);
  EXPECT_TRUE(report.damage.empty());
  // A tailer resuming at any record boundary reads the rest exactly.
  for (size_t from : {size_t{1}, size_t{17}, size_t{42}}) {
    Tailer tailer(dir_.string(), starts[from]);
    for (size_t i = from; i < want.size(); ++i) {
      auto r = tailer.Next();
      ASSERT_TRUE(r.ok() && r->has_value()) << i;
      ASSERT_EQ((*r)->payload, want[i]) << i;
    }
  }
}

TEST_F(WalTest, CorruptLengthLosesAtMostOnePage) {
  std::vector<Position> starts;
  const int kRecords = 5000;
  {
    auto w = Writer::Open(dir_, {.segment_size = 4 << 20});
    for (int i = 0; i < kRecords; ++i) {
      Position p;
      ASSERT_TRUE((*w)->Write(Payload(i), &p).ok());
      starts.push_back(p);
    }
  }
  ASSERT_EQ(starts.back().segment, 0u);
  ASSERT_GT(starts.back().offset, 4 * kPageSize);
  // A record in the middle of the third page: its length field gets a high bit.
  int victim = 0;
  while (starts[victim].offset < 2 * kPageSize + kPageSize / 2) ++victim;
  // The boundary before a record may be followed by padding; the header is where the
  // record's first byte of type lives.
  uint64_t header = starts[victim].offset;
  if (kPageSize - header % kPageSize <= kFragmentHeaderSize)
    header += kPageSize - header % kPageSize;
  FlipByte(0, header + 2);
  ReplayReport report;
  auto got = ReplayAll(&report);
  ASSERT_EQ(report.damage.size(), 1u);
  EXPECT_FALSE(report.damage[0].torn_tail);  // good records follow: not a torn tail
  EXPECT_EQ(report.damage[0].at, starts[victim]);
  // Lost: the victim and the records after it that start in the same page (and one
  // spanning into the next page); everything else is there, in order.
  std::vector<std::string> want;
  int lost = 0;
  const uint64_t page_end = (header / kPageSize + 1) * kPageSize;
  for (int i = 0; i < kRecords; ++i) {
    bool in_damaged_page = i >= victim && starts[i].offset < page_end;
    if (in_damaged_page) {
      ++lost;
    } else {
      want.push_back(Payload(i));
    }
  }
  EXPECT_EQ(got, want);
  EXPECT_GT(lost, 0);
  EXPECT_LT(lost, static_cast<int>(kPageSize / 10));
  // Nothing was truncated: the damage is left for inspection.
  EXPECT_GT(*FileSize(SegmentPath(dir_.string(), 0)), starts.back().offset);
}

TEST_F(WalTest, BigSegmentIsReadAsAStream) {
  // A 48 MiB segment replayed and tailed must not be held in memory: the peak resident
  // size grows by far less than the segment.
  constexpr uint64_t kBytes = 48ull << 20;
  {
    auto w = Writer::Open(dir_, {.segment_size = kBytes * 2});
    std::string p(4000, 'y');
    while ((*w)->End().offset < kBytes) ASSERT_TRUE((*w)->Write(p).ok());
  }
  auto peak_kib = [] {
    struct rusage ru;
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<uint64_t>(ru.ru_maxrss);
  };
  const uint64_t before = peak_kib();
  uint64_t records = 0;
  auto r = Replay(dir_, {}, [&](Position, std::string_view) {
    ++records;
    return Status::OK();
  });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->damage.empty());
  Tailer tailer(dir_.string(), {0, 0});
  uint64_t tailed = 0;
  for (;;) {
    auto t = tailer.Next();
    ASSERT_TRUE(t.ok());
    if (!t->has_value()) break;
    ++tailed;
  }
  EXPECT_EQ(tailed, records);
  EXPECT_GE(records * 4100, kBytes);
  EXPECT_LT(peak_kib() - before, (kBytes >> 10) / 4) << "KiB of peak RSS growth";
}

}  // namespace
}  // namespace shardwise::tsdb::wal
