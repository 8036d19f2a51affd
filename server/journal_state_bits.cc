#include "server/journal_state_bits.h"

#include <algorithm>

namespace distributo::server {

void JournalStateBits::Apply(const journal::RoundSummary& round) {
  for (uint64_t seq : round.done()) Finish(seq, /*dead=*/false);
  for (uint64_t seq : round.dead()) Finish(seq, /*dead=*/true);
  for (uint64_t seq : round.handled()) MarkHandled(seq);
  for (uint64_t seq : round.redriven()) Redrive(seq);
}

void JournalStateBits::Finish(uint64_t seq, bool dead) {
  if (handled(seq)) return;
  Reserve(seq);
  finished_[seq] = true;
  dead_[seq] = dead;
}

void JournalStateBits::MarkHandled(uint64_t seq) {
  if (!finished(seq) || handled(seq)) return;
  handled_[seq] = true;
  if (!dead_[seq]) ++handled_done_;
}

void JournalStateBits::Redrive(uint64_t seq) {
  if (!dead(seq)) return;
  finished_[seq] = dead_[seq] = handled_[seq] = false;
}

void JournalStateBits::Reserve(uint64_t seq) {
  if (seq < finished_.size()) return;
  // Doubling: rounds name seqs mostly in increasing order.
  const size_t size = std::max<size_t>(seq + 1, finished_.size() * 2);
  finished_.resize(size);
  dead_.resize(size);
  handled_.resize(size);
}

}  // namespace distributo::server
