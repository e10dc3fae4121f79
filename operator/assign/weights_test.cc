#include "operator/assign/weights.h"

#include <gtest/gtest.h>

namespace shardwise::assign {
namespace {

TEST(EstimateWeightsTest, MeasuredTargetsWeighTheirSeries) {
  std::vector<TargetInput> t = {{1, 7, 250}, {2, 7, 0}};
  EXPECT_EQ(EstimateWeights(t, 100), (std::vector<double>{250, kMinWeight}));
}

TEST(EstimateWeightsTest, UnmeasuredBorrowTheJobMeanThenTheOverallMeanThenTheDefault) {
  std::vector<TargetInput> t = {{1, 7, 100}, {2, 7, 300}, {3, 8, 1000}, {4, 7, -1}, {5, 9, -1}};
  EXPECT_EQ(EstimateWeights(t, 50), (std::vector<double>{100, 300, 1000, 200, 1400.0 / 3}));
  std::vector<TargetInput> none = {{1, 7, -1}};
  EXPECT_EQ(EstimateWeights(none, 50), (std::vector<double>{50}));
  EXPECT_EQ(EstimateWeights(none, 0), (std::vector<double>{kMinWeight}));
}

}  // namespace
}  // namespace shardwise::assign
