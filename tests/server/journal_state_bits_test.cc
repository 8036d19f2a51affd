#include "server/journal_state_bits.h"

#include <initializer_list>

#include "gtest/gtest.h"

namespace distributo::server {
namespace {

journal::RoundSummary Round(std::initializer_list<uint64_t> done,
                            std::initializer_list<uint64_t> dead,
                            std::initializer_list<uint64_t> handled,
                            std::initializer_list<uint64_t> redriven) {
  journal::RoundSummary round;
  for (uint64_t seq : done) round.add_done(seq);
  for (uint64_t seq : dead) round.add_dead(seq);
  for (uint64_t seq : handled) round.add_handled(seq);
  for (uint64_t seq : redriven) round.add_redriven(seq);
  return round;
}

TEST(JournalStateBitsTest, NewTasksAreUnfinished) {
  const JournalStateBits bits;
  EXPECT_FALSE(bits.finished(1));
  EXPECT_FALSE(bits.kept(1));
  EXPECT_EQ(bits.end(), 0u);
}

TEST(JournalStateBitsTest, HandledDoneTasksAreCountedNotKept) {
  JournalStateBits bits;
  bits.Apply(Round({1, 2}, {3}, {}, {}));
  EXPECT_TRUE(bits.kept(1)) << "the sink has not had it";
  bits.Apply(Round({}, {}, {1, 3}, {}));
  EXPECT_TRUE(bits.finished(1));
  EXPECT_FALSE(bits.kept(1));
  EXPECT_TRUE(bits.kept(2));
  EXPECT_TRUE(bits.kept(3)) << "dead tasks stay listed";
  EXPECT_EQ(bits.handled_done(), 1u);
  EXPECT_GT(bits.end(), 3u);
}

TEST(JournalStateBitsTest, OutcomeForHandledTaskIsIgnored) {
  JournalStateBits bits;
  bits.Apply(Round({5}, {}, {5}, {}));
  bits.Apply(Round({}, {5}, {}, {}));
  EXPECT_FALSE(bits.dead(5));
  EXPECT_FALSE(bits.kept(5));
  EXPECT_EQ(bits.handled_done(), 1u);
}

TEST(JournalStateBitsTest, MarkOfUnfinishedOrHandledTaskIsIgnored) {
  JournalStateBits bits;
  bits.Apply(Round({}, {}, {7}, {}));
  EXPECT_FALSE(bits.handled(7));
  bits.Apply(Round({7}, {}, {7, 7}, {}));
  EXPECT_EQ(bits.handled_done(), 1u) << "one task, marked twice";
}

TEST(JournalStateBitsTest, RedriveResetsOnlyDeadTasks) {
  JournalStateBits bits;
  bits.Apply(Round({1}, {2, 3}, {2}, {}));
  bits.Apply(Round({}, {}, {}, {1, 2, 3, 4}));
  EXPECT_TRUE(bits.finished(1)) << "done stays done";
  for (uint64_t seq : {2, 3, 4}) {
    EXPECT_FALSE(bits.finished(seq)) << seq;
    EXPECT_FALSE(bits.handled(seq)) << seq;
  }
  bits.Apply(Round({2}, {}, {}, {}));
  EXPECT_TRUE(bits.kept(2)) << "finished anew, not handled yet";
}

}  // namespace
}  // namespace distributo::server
