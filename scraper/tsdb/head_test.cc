#include "scraper/tsdb/head.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>

#include "scraper/storage/appender.h"
#include "scraper/tsdb/testutil.h"

namespace shardwise::tsdb {
namespace {

Labels L(std::string name, std::string job, std::string instance) {
  return Labels{{"__name__", name}, {"job", job}, {"instance", instance}};
}

Matcher M(Matcher::Type t, std::string n, std::string v) {
  auto m = Matcher::Make(t, std::move(n), std::move(v));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

using T = Matcher::Type;

TEST(HeadTest, GetOrCreateIsIdempotentAndRefsGrow) {
  Head head({});
  bool created = false;
  auto a = head.GetOrCreate(L("up", "a", "1"), &created);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(created);
  auto again = head.GetOrCreate(L("up", "a", "1"), &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(*again, *a);
  auto b = head.GetOrCreate(L("up", "a", "2"));
  EXPECT_GT(*b, *a);
  Labels got;
  ASSERT_TRUE(head.SeriesLabels(*b, &got));
  EXPECT_EQ(got, L("up", "a", "2"));
  EXPECT_EQ(head.Stats().series, 2u);
  EXPECT_FALSE(head.GetOrCreate(Labels{}).ok());
}

TEST(HeadTest, OutOfOrderAndDuplicatesAreRejectedAndCounted) {
  Head head({});
  SeriesRef ref = *head.GetOrCreate(L("x", "j", "i"));
  EXPECT_EQ(head.Append(ref, 1000, 1), AppendOutcome::kOk);
  EXPECT_EQ(head.Append(ref, 2000, 2), AppendOutcome::kOk);
  EXPECT_EQ(head.Check(ref, 1500), AppendOutcome::kOutOfOrder);
  EXPECT_EQ(head.Append(ref, 1500, 9), AppendOutcome::kOutOfOrder);
  EXPECT_EQ(head.Append(ref, 2000, 2), AppendOutcome::kDuplicate);
  EXPECT_EQ(head.Append(ref, 2000, 3), AppendOutcome::kDuplicate);
  EXPECT_EQ(head.Append(ref, 3000, 3), AppendOutcome::kOk);
  EXPECT_EQ(head.Append(ref + 100, 3000, 3), AppendOutcome::kNotFound);
  auto st = head.Stats();
  EXPECT_EQ(st.out_of_order, 1u);
  EXPECT_EQ(st.duplicates, 2u);
  EXPECT_EQ(st.samples_appended, 3u);
  std::vector<Sample> got;
  ASSERT_TRUE(head.Samples(ref, 0, 10'000, &got));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].t, 2000);
  EXPECT_EQ(got[1].v, 2);
}

TEST(HeadTest, MaxSeriesLimit) {
  Head head({.max_series = 3});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(head.GetOrCreate(L("x", "j", std::to_string(i))).ok());
  auto over = head.GetOrCreate(L("x", "j", "99"));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Status::Code::kResourceExhausted);
  EXPECT_NE(over.status().message().find("limit of 3"), std::string::npos);
  EXPECT_NE(over.status().message().find("instance=\"99\""), std::string::npos);
  // Existing series are still found.
  EXPECT_TRUE(head.GetOrCreate(L("x", "j", "1")).ok());
  EXPECT_EQ(head.Stats().series_limit_hits, 1u);
}

TEST(HeadTest, ChunksAreCutAndReadAcrossBoundaries) {
  Head head({});
  SeriesRef ref = *head.GetOrCreate(L("x", "j", "i"));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(head.Append(ref, i * 1000, i * 0.5), AppendOutcome::kOk);
  EXPECT_EQ(head.Stats().chunks, (1000 + 119) / 120u);
  std::vector<Sample> got;
  head.Samples(ref, 100'500, 600'000, &got);
  ASSERT_EQ(got.size(), 500u);
  EXPECT_EQ(got.front().t, 101'000);
  EXPECT_EQ(got.back().t, 600'000);
  for (const auto& s : got) EXPECT_EQ(s.v, s.t / 1000 * 0.5);
  EXPECT_TRUE(head.HasSamplesIn(ref, 999'000, 2'000'000));
  EXPECT_FALSE(head.HasSamplesIn(ref, 999'001, 2'000'000));
}

TEST(HeadTest, PostingsSelectWithAllMatcherKinds) {
  Head head({});
  std::map<std::string, SeriesRef> refs;
  for (std::string job : {"api", "db", "web"}) {
    for (std::string inst : {"1", "2", "3"}) {
      refs[job + inst] = *head.GetOrCreate(L("up", job, inst));
    }
  }
  SeriesRef other = *head.GetOrCreate(Labels{{"__name__", "other"}, {"job", "api"}});
  auto names = [&](const std::vector<SeriesRef>& got) {
    std::vector<std::string> out;
    for (SeriesRef r : got) {
      Labels l;
      head.SeriesLabels(r, &l);
      out.push_back(std::string(l.Get("__name__")) + ":" + std::string(l.Get("job")) +
                    std::string(l.Get("instance")));
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(head.Select({M(T::kEqual, "job", "db")})), (V{"up:db1", "up:db2", "up:db3"}));
  EXPECT_EQ(names(head.Select({M(T::kEqual, "job", "db"), M(T::kEqual, "instance", "2")})),
            (V{"up:db2"}));
  EXPECT_EQ(
      names(head.Select({M(T::kRegexMatch, "job", "a.*|w.b"), M(T::kEqual, "instance", "3")})),
      (V{"up:api3", "up:web3"}));
  // Regexes are fully anchored.
  EXPECT_TRUE(head.Select({M(T::kRegexMatch, "job", "p")}).empty());
  EXPECT_EQ(names(head.Select({M(T::kEqual, "__name__", "up"), M(T::kNotEqual, "job", "api"),
                               M(T::kRegexNoMatch, "instance", "1|2")})),
            (V{"up:db3", "up:web3"}));
  // instance="" selects series without the label; != "" requires it.
  EXPECT_EQ(names(head.Select({M(T::kEqual, "instance", "")})), (V{"other:api"}));
  EXPECT_EQ(head.Select({M(T::kNotEqual, "instance", "")}).size(), 9u);
  EXPECT_EQ(head.Select({M(T::kRegexMatch, "job", ".*")}).size(), 10u);
  EXPECT_EQ(head.Select({}).size(), 10u);
  EXPECT_TRUE(head.Select({M(T::kEqual, "job", "nope")}).empty());
  EXPECT_TRUE(head.Select({M(T::kEqual, "nolabel", "x")}).empty());
  EXPECT_EQ(head.Select({M(T::kEqual, "__name__", "other")}), (std::vector<SeriesRef>{other}));
  EXPECT_FALSE(Matcher::Make(T::kRegexMatch, "a", "(").ok());

  EXPECT_EQ(head.LabelNames(), (V{"__name__", "instance", "job"}));
  EXPECT_EQ(head.LabelValues("job"), (V{"api", "db", "web"}));
  EXPECT_TRUE(head.LabelValues("zzz").empty());
}

TEST(HeadTest, LabelStringsAreInternedOnce) {
  Head head({});
  for (int i = 0; i < 1000; ++i) {
    head.GetOrCreate(Labels{{"__name__", "a_fairly_long_metric_name_total"},
                            {"job", "a_fairly_long_job_name"},
                            {"id", std::to_string(i)}});
  }
  // The two shared pairs and 1000 ids.
  EXPECT_EQ(head.Stats().label_pairs, 2u + 1000u);
  size_t with_1000 = head.MemoryBytes();
  // Every extra series adds its own id string but no new copy of the shared ones.
  Head small({});
  small.GetOrCreate(Labels{{"__name__", "a_fairly_long_metric_name_total"},
                           {"job", "a_fairly_long_job_name"},
                           {"id", "0"}});
  EXPECT_LT(with_1000, small.MemoryBytes() * 1000 / 2);
}

TEST(HeadTest, TruncateDropsOldChunksAndIdleSeries) {
  Head head({});
  SeriesRef active = *head.GetOrCreate(L("x", "j", "active"));
  SeriesRef idle = *head.GetOrCreate(L("x", "j", "idle"));
  for (int i = 0; i < 600; ++i) {
    head.Append(active, i * 1000, i);
    if (i < 200) head.Append(idle, i * 1000, i);
  }
  auto res = head.Truncate(300'000);
  EXPECT_EQ(res.series_removed.size(), 1u);
  EXPECT_EQ(res.series_removed[0].first, idle);
  Labels l;
  EXPECT_FALSE(head.SeriesLabels(idle, &l));
  EXPECT_TRUE(head.Select({M(T::kEqual, "instance", "idle")}).empty());
  EXPECT_EQ(head.LabelValues("instance"), (std::vector<std::string>{"active"}));
  // The removed series' unique pair went with it.
  EXPECT_EQ(head.Stats().label_pairs, 3u);  // __name__=x job=j instance=active
  std::vector<Sample> got;
  head.Samples(active, 0, 1'000'000, &got);
  // Whole chunks only: the chunk holding t=300s is kept.
  EXPECT_EQ(got.front().t, 240'000);
  EXPECT_EQ(got.back().t, 599'000);
  EXPECT_EQ(head.Stats().min_time, 240'000);
  // A re-created series gets a new ref.
  SeriesRef again = *head.GetOrCreate(L("x", "j", "idle"));
  EXPECT_GT(again, idle);
}

TEST(HeadTest, PreparedBatchDropsWhatTheHeadRefusesAndSkipsSeriesRemovedBeforeItsAppend) {
  Head head({});
  SeriesRef a = *head.GetOrCreate(L("x", "j", "a"));
  SeriesRef b = *head.GetOrCreate(L("x", "j", "b"));
  head.Append(a, 1000, 1);
  head.Append(b, 1000, 1);
  std::vector<SampleRecord> batch = {
      {a, 500, 1}, {b, 1000, 2}, {a, 2000, 3}, {b, 3000, 4}, {b + 100, 1, 1}};
  Head::PreparedBatch prepared;
  uint64_t late = 0, repeated = 0;
  head.PrepareBatch(&batch, &prepared, &late, &repeated);
  EXPECT_EQ(late, 1u);
  EXPECT_EQ(repeated, 1u);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].t, 2000);
  EXPECT_EQ(batch[1].t, 3000);
  head.AppendPrepared(batch, prepared);
  std::vector<Sample> got;
  head.Samples(a, 0, 10'000, &got);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(got.back().v, 3);
  got.clear();
  head.Samples(b, 0, 10'000, &got);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(got.back().v, 4);

  // Retention removes a series between the two steps: its sample is skipped (its ref
  // is gone), the other series' sample lands.
  SeriesRef idle = *head.GetOrCreate(L("x", "j", "idle"));
  head.Append(idle, 1500, 1);
  head.Append(a, 6000, 1);
  batch = {{a, 7000, 7}, {idle, 7000, 7}};
  head.PrepareBatch(&batch, &prepared, &late, &repeated);
  ASSERT_EQ(batch.size(), 2u);
  auto truncated = head.Truncate(5000);
  Labels l;
  ASSERT_FALSE(head.SeriesLabels(idle, &l));
  head.AppendPrepared(batch, prepared);
  got.clear();
  head.Samples(a, 0, 10'000, &got);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().t, 7000);
  EXPECT_EQ(got.back().v, 7);
  EXPECT_FALSE(head.SeriesLabels(idle, &l));
}

TEST(HeadTest, ChurnAcrossRefPagesKeepsTheIndexConsistent) {
  // Enough series to span several ref pages; every other one goes idle and is removed.
  Head head({});
  const int n = 10000;
  std::vector<SeriesRef> refs;
  for (int i = 0; i < n; ++i) refs.push_back(*head.GetOrCreate(L("churn", "j", std::to_string(i))));
  for (int i = 0; i < n; ++i) head.Append(refs[i], i % 2 ? 5000 : 10, 1);
  auto truncated = head.Truncate(1000);
  EXPECT_EQ(truncated.series_removed.size(), static_cast<size_t>(n / 2));
  EXPECT_EQ(head.Stats().series, static_cast<uint64_t>(n / 2));
  for (int i = 0; i < n; ++i) {
    Labels got;
    const bool kept = i % 2 == 1;
    ASSERT_EQ(head.SeriesLabels(refs[i], &got), kept) << i;
    if (kept) {
      EXPECT_EQ(got, L("churn", "j", std::to_string(i)));
    }
    auto sel = head.Select({M(T::kEqual, "instance", std::to_string(i))});
    EXPECT_EQ(sel, kept ? std::vector<SeriesRef>{refs[i]} : std::vector<SeriesRef>{}) << i;
  }
  EXPECT_EQ(head.LabelValues("instance").size(), static_cast<size_t>(n / 2));
  // Survivors keep their refs; removed label sets come back as new series.
  bool created = true;
  EXPECT_EQ(*head.GetOrCreate(L("churn", "j", "1"), &created), refs[1]);
  EXPECT_FALSE(created);
  EXPECT_GT(*head.GetOrCreate(L("churn", "j", "0"), &created), refs.back());
  EXPECT_TRUE(created);
  std::vector<Sample> samples;
  ASSERT_TRUE(head.Samples(refs[n - 1], 0, 10000, &samples));
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].t, 5000);
}

TEST(HeadTest, RefWindowSlidesForwardAndBackForReplay) {
  Head head({});
  const int n = 10000;
  std::vector<SeriesRef> refs;
  for (int i = 0; i < n; ++i) refs.push_back(*head.GetOrCreate(L("slide", "j", std::to_string(i))));
  for (int i = 0; i < n; ++i) head.Append(refs[i], i < 9000 ? 10 : 5000, 1);
  EXPECT_EQ(head.Truncate(1000).series_removed.size(), 9000u);
  Labels got;
  EXPECT_FALSE(head.SeriesLabels(refs[0], &got));
  EXPECT_FALSE(head.SeriesLabels(refs[8999], &got));
  ASSERT_TRUE(head.SeriesLabels(refs[9500], &got));
  EXPECT_EQ(got, L("slide", "j", "9500"));
  // Replay may bring back a ref below the window.
  ASSERT_EQ(*head.CreateWithRef(5, L("old", "j", "5")), 5u);
  ASSERT_TRUE(head.SeriesLabels(5, &got));
  EXPECT_EQ(got, L("old", "j", "5"));
  ASSERT_TRUE(head.SeriesLabels(refs[9500], &got));
  EXPECT_EQ(got, L("slide", "j", "9500"));
  // A ref absurdly far from every live one is refused rather than paged.
  auto far = head.CreateWithRef(SeriesRef{1} << 45, L("far", "j", "1"));
  EXPECT_EQ(far.status().code(), Status::Code::kCorruption);
}

TEST(HeadTest, FreshSeriesWithoutSamplesSurviveTruncate) {
  Head head({});
  SeriesRef a = *head.GetOrCreate(L("x", "j", "a"));
  head.Append(a, 1'000'000, 1);
  SeriesRef fresh = *head.GetOrCreate(L("x", "j", "fresh"));
  head.Truncate(500'000);
  EXPECT_EQ(head.Append(fresh, 1'000'001, 1), AppendOutcome::kOk);
}

TEST(HeadTest, TruncateWhileAppending) {
  Head head({});
  std::atomic<bool> stop{false};
  std::atomic<int64_t> now{0};
  std::thread writer([&] {
    for (int64_t t = 1; t <= 3000; ++t) {
      for (int s = 0; s < 20; ++s) {
        // Series come and go: each one is active for 500 ms of head time.
        Labels l = L("x", "j", std::to_string((t / 500) * 100 + s));
        head.Append(*head.GetOrCreate(l), t, 1);
      }
      now = t;
    }
    stop = true;
  });
  while (!stop) head.Truncate(now.load() - 100);
  writer.join();
  head.Truncate(3000 - 100);
  // Only the last generation (t 2500..3000) of series survives.
  EXPECT_EQ(head.Stats().series, 40u);  // generations 2500/500=5 and 3000/500=6
  for (SeriesRef ref : head.Select({M(T::kEqual, "__name__", "x")})) {
    std::vector<Sample> got;
    head.Samples(ref, 0, 10'000, &got);
    ASSERT_FALSE(got.empty());
    EXPECT_GE(got.back().t, 2900);
  }
}

TEST(HeadTest, ConcurrentAppendsAndReads) {
  Head head({});
  constexpr int kThreads = 4, kSeries = 200, kSamples = 300;
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int s = 0; s < kSeries; ++s) {
        SeriesRef ref = *head.GetOrCreate(L("x", std::to_string(w), std::to_string(s)));
        for (int i = 0; i < kSamples; ++i) head.Append(ref, i, i);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) head.Select({M(T::kRegexMatch, "job", "1|2")});
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(head.Stats().series, uint64_t{kThreads * kSeries});
  EXPECT_EQ(head.Stats().samples_appended, uint64_t{kThreads * kSeries * kSamples});
}

TEST(HeadTest, SealedChunksLiveInChunkFilesAndGoWithRetention) {
  testing::TempDir dir("head-chunkfiles");
  auto files = ChunkFiles::Open(dir.path(), 4096);
  ASSERT_TRUE(files.ok());
  Head on_disk({.chunk_files = files->get()});
  Head on_heap({});
  for (Head* head : {&on_disk, &on_heap}) {
    for (int s = 0; s < 50; ++s) head->GetOrCreate(L("x", "j", std::to_string(s)));
    for (int i = 0; i < 1000; ++i) {  // as scrapes come: every series at each time
      for (SeriesRef ref : head->Select({})) head->Append(ref, i * 1000, i * 0.5 + ref);
    }
  }
  EXPECT_GT((*files)->BytesOnDisk(), 0u);
  EXPECT_LT(on_disk.MemoryBytes() * 3 / 2, on_heap.MemoryBytes());
  for (SeriesRef ref : on_heap.Select({})) {
    std::vector<Sample> a, b;
    ASSERT_TRUE(on_disk.Samples(ref, 0, 2'000'000, &a));
    ASSERT_TRUE(on_heap.Samples(ref, 0, 2'000'000, &b));
    ASSERT_EQ(a.size(), 1000u);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].t, b[i].t);
      EXPECT_EQ(a[i].v, b[i].v);
    }
  }
  const size_t files_before = (*files)->files();
  on_disk.Truncate(900'000);
  EXPECT_LT((*files)->files(), files_before);
  std::vector<Sample> got;
  on_disk.Samples(on_disk.Select({}).front(), 0, 2'000'000, &got);
  EXPECT_EQ(got.back().t, 999'000);
  EXPECT_LE(got.front().t, 900'000);
}

TEST(HeadTest, ChunkFilesUnderConcurrentAppendsReadsAndTruncation) {
  testing::TempDir dir("head-chunkfiles-race");
  auto files = ChunkFiles::Open(dir.path(), 16 << 10);
  ASSERT_TRUE(files.ok());
  Head head({.chunk_files = files->get()});
  std::atomic<int64_t> now{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int64_t t = 1; t <= 2000; ++t) {
      for (int s = 0; s < 20; ++s)
        head.Append(*head.GetOrCreate(L("x", "j", std::to_string(s))), t, t);
      now = t;
    }
    stop = true;
  });
  std::thread reader([&] {
    while (!stop) {
      for (SeriesRef ref : head.Select({})) {
        std::vector<Sample> got;
        head.Samples(ref, 0, 10'000, &got);
        for (size_t i = 1; i < got.size(); ++i) ASSERT_EQ(got[i].t, got[i - 1].t + 1);
        for (const Sample& s : got) ASSERT_EQ(s.v, static_cast<double>(s.t));
      }
    }
  });
  while (!stop) head.Truncate(now.load() - 300);
  writer.join();
  reader.join();
  head.Truncate(2000 - 300);
  std::vector<Sample> got;
  head.Samples(head.Select({}).front(), 0, 10'000, &got);
  EXPECT_EQ(got.back().t, 2000);
  EXPECT_LE(got.front().t, 1700);
}

}  // namespace
}  // namespace shardwise::tsdb
