#include "scraper/storage/label_pair_table.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/prompb/remote.pb.h"

namespace shardwise::storage {
namespace {

TEST(LabelPairTableTest, InternsEachPairOnceAndFreesItWithItsLastReference) {
  LabelPairTable pairs;
  const size_t empty = pairs.MemoryBytes();
  const uint32_t a = pairs.Acquire("job", "api");
  const uint32_t b = pairs.Acquire("job", std::string("a") + "pi");
  const uint32_t c = pairs.Acquire("instance", "api");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs.name(a), "job");
  EXPECT_EQ(pairs.value(a), "api");
  EXPECT_EQ(pairs.name(c), "instance");
  EXPECT_EQ(pairs.Find("job", "api"), a);
  EXPECT_EQ(pairs.Find("job", "web"), LabelPairTable::kNone);
  EXPECT_GT(pairs.MemoryBytes(), empty);

  pairs.Release(a);
  EXPECT_EQ(pairs.Find("job", "api"), a) << "one reference left";
  pairs.Release(a);
  EXPECT_EQ(pairs.Find("job", "api"), LabelPairTable::kNone);
  EXPECT_EQ(pairs.size(), 1u);
  // The freed id is reused, with the new pair's bytes.
  EXPECT_EQ(pairs.Acquire("job", "web"), a);
  EXPECT_EQ(pairs.value(a), "web");
  const uint32_t ids[] = {a, c};
  pairs.Release(ids);
  EXPECT_EQ(pairs.size(), 0u);
}

TEST(LabelPairTableTest, EncodedBytesAreTheLabelMessageLibprotobufWrites) {
  LabelPairTable pairs;
  const std::string long_value(300, 'v');  // a two-byte length
  const Labels labels{{"__name__", "up"}, {"empty", ""}, {"long", long_value}, {"x", "é"}};
  std::vector<uint32_t> ids(labels.size());
  pairs.AcquireAll(labels, ids.data());
  prometheus::TimeSeries ts;
  for (const Label& l : labels) {
    prometheus::Label* pl = ts.add_labels();
    pl->set_name(l.name);
    pl->set_value(l.value);
  }
  std::string ours;
  for (size_t i = 0; i < ids.size(); ++i) {
    ours += pairs.encoded(ids[i]);
    EXPECT_EQ(pairs.name(ids[i]), labels[i].name);
    EXPECT_EQ(pairs.value(ids[i]), labels[i].value);
  }
  EXPECT_EQ(ours, ts.SerializeAsString());
  pairs.Release(ids);
}

TEST(LabelPairTableTest, HoldersReadWhileOthersAddAndFree) {
  // A reader holding pairs reads them without a lock while another thread adds and frees
  // thousands of others (chunks are added, ids reused). Run under TSan by hack/sanitize.sh.
  LabelPairTable pairs;
  std::vector<uint32_t> held;
  for (int i = 0; i < 100; ++i) held.push_back(pairs.Acquire("held", std::to_string(i)));
  std::thread churn([&] {
    for (int round = 0; round < 20; ++round) {
      std::vector<uint32_t> ids;
      for (int i = 0; i < 3000; ++i) {
        ids.push_back(pairs.Acquire("churn", std::to_string(round * 3000 + i)));
      }
      pairs.Release(ids);
    }
  });
  size_t bad = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 100; ++i) {
      if (pairs.value(held[i]) != std::to_string(i) || pairs.name(held[i]) != "held") ++bad;
    }
  }
  churn.join();
  EXPECT_EQ(bad, 0u);
  pairs.Release(held);
  EXPECT_EQ(pairs.size(), 0u);
}

TEST(LabelPairTableTest, ProcessTableIsOne) {
  EXPECT_EQ(LabelPairTable::Process().get(), LabelPairTable::Process().get());
}

}  // namespace
}  // namespace shardwise::storage
