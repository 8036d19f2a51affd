#ifndef DISTRIBUTO_SERVER_JOURNAL_STATE_BITS_H_
#define DISTRIBUTO_SERVER_JOURNAL_STATE_BITS_H_

#include <cstdint>
#include <vector>

#include "server/journal_round.pb.h"

namespace distributo::server {

// The state of every task of a SQLite journal, by its seq, in three bits:
// finished, dead, handled. The journal's rows keep only the tasks; what
// became of them is in its rounds (journal_round.proto), which a restart
// replays into these bits (about 1.25 MB per bit at 10M tasks) and every
// later round updates. Not thread-safe.
class JournalStateBits {
 public:
  // Applies a round's changes in the order RoundSummary gives. An outcome
  // for a handled task is ignored, as is a mark for an unfinished one: the
  // sink has the task's result, or has not had one to mark. A redrive
  // applies to dead tasks only.
  void Apply(const journal::RoundSummary& round);

  bool finished(uint64_t seq) const { return Get(finished_, seq); }
  bool dead(uint64_t seq) const { return Get(dead_, seq); }
  bool handled(uint64_t seq) const { return Get(handled_, seq); }
  // Finished, and either dead or not yet handled: what JournalState lists.
  bool kept(uint64_t seq) const {
    return finished(seq) && (dead(seq) || !handled(seq));
  }
  // Done (not dead) tasks the sink has.
  uint64_t handled_done() const { return handled_done_; }
  // A bound on the seqs rounds named: every seq from it on is unfinished.
  uint64_t end() const { return finished_.size(); }

 private:
  static bool Get(const std::vector<bool>& bits, uint64_t seq) {
    return seq < bits.size() && bits[seq];
  }
  void Finish(uint64_t seq, bool dead);
  void MarkHandled(uint64_t seq);
  void Redrive(uint64_t seq);
  void Reserve(uint64_t seq);

  std::vector<bool> finished_;
  std::vector<bool> dead_;
  std::vector<bool> handled_;
  uint64_t handled_done_ = 0;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_JOURNAL_STATE_BITS_H_
