#include "worker/session_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "glog/logging.h"

namespace distributo::worker {

SessionWriter::SessionWriter(Config config, TaskLedger& ledger,
                             OutcomeBook& book)
    : config_(config), ledger_(ledger), book_(book) {}

SessionWriter::~SessionWriter() { Stop(); }

void SessionWriter::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void SessionWriter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void SessionWriter::Attach(std::shared_ptr<MasterConnection> conn,
                           uint64_t stream, std::string session_id,
                           size_t max_batch_bytes, absl::Duration lease) {
  absl::MutexLock lock(&mu_);
  conn_ = std::move(conn);
  stream_ = stream;
  session_id_ = std::move(session_id);
  max_batch_bytes_ = max_batch_bytes;
  extension_interval_ = lease / 3;
  next_extension_ = absl::Now() + extension_interval_;
  ++events_;
  cv_.SignalAll();
}

void SessionWriter::Detach() {
  absl::MutexLock lock(&mu_);
  conn_ = nullptr;
  next_extension_ = absl::InfiniteFuture();
}

void SessionWriter::ShortenLease(absl::Duration lease) {
  absl::MutexLock lock(&mu_);
  if (conn_ == nullptr || lease / 3 >= extension_interval_) return;
  extension_interval_ = lease / 3;
  next_extension_ = std::min(next_extension_, absl::Now() + lease / 3);
  cv_.SignalAll();
}

void SessionWriter::StopCredit() {
  absl::MutexLock lock(&mu_);
  credit_ = false;
  ++events_;
  cv_.SignalAll();
}

void SessionWriter::Wake() {
  absl::MutexLock lock(&mu_);
  ++events_;
  cv_.SignalAll();
}

void SessionWriter::Loop() {
  while (std::optional<Work> work = WaitForWork()) DoWork(*std::move(work));
}

std::optional<SessionWriter::Work> SessionWriter::WaitForWork() {
  absl::MutexLock lock(&mu_);
  while (!stop_ && events_ == handled_events_) {
    const absl::Time deadline = DeadlineLocked();
    if (absl::Now() >= deadline) break;
    cv_.WaitWithDeadline(&mu_, deadline);
  }
  if (stop_) return std::nullopt;
  handled_events_ = events_;
  Work work{conn_, stream_, session_id_, max_batch_bytes_, false, credit_};
  const absl::Time now = absl::Now();
  if (conn_ != nullptr && now >= next_extension_) {
    work.extend = credit_;
    next_extension_ = now + extension_interval_;
  }
  return work;
}

// The next lease extension, or the end of the oldest pending outcome's
// linger.
absl::Time SessionWriter::DeadlineLocked() const {
  if (conn_ == nullptr) return absl::InfiniteFuture();
  const absl::Time linger_end = book_.oldest_pending() + config_.flush_linger;
  return std::min(next_extension_, linger_end);
}

void SessionWriter::DoWork(Work work) {
  if (work.conn == nullptr) return;
  if (work.credit) GrantCredit(*work.conn);
  std::vector<v1::LeaseRef> extensions;
  if (work.extend) extensions = ledger_.HeldLeases();
  bool flush = !extensions.empty() || ShouldFlush();
  while (flush) {
    std::optional<v1::ResultBatch> batch =
        book_.NextBatch(work.stream, config_.flush_outcomes,
                        work.max_batch_bytes, std::move(extensions));
    extensions.clear();
    if (!batch.has_value()) return;
    batch->set_session_id(work.session_id);
    VLOG(1) << "sending batch " << batch->batch_id() << ": "
            << batch->outcomes_size() << " outcomes, "
            << batch->extensions_size() << " extensions";
    // A failed write means a broken stream, which the ack reader reports;
    // the batch stays unacked and is sent again on the next stream.
    if (!work.conn->WriteResults(*batch)) return;
    flush = ShouldFlush();
  }
}

void SessionWriter::GrantCredit(MasterConnection& conn) {
  const uint32_t credit = ledger_.TakeCreditToGrant(book_.unacked());
  if (credit == 0) return;
  VLOG(1) << "granting " << credit << " tasks of credit";
  // A failed write means a broken stream, maybe one already replaced: the
  // master never saw this credit, so it must not count as outstanding.
  if (!conn.WriteCredit(credit)) ledger_.ReturnCredit(credit);
}

bool SessionWriter::ShouldFlush() const {
  const size_t pending = book_.pending();
  if (pending == 0) return false;
  return pending >= config_.flush_outcomes || ledger_.running() == 0 ||
         absl::Now() >= book_.oldest_pending() + config_.flush_linger;
}

}  // namespace distributo::worker
