// libFuzzer target: the queue's state machine driven by random event
// sequences (enqueue, sessions, lease, result, failure, extension,
// disconnect, resume, cancel, redrive, clock ticks, handled marks), checking
// its invariants after every event: the states add up to the total, a task
// finishes at most once, the workers hold exactly the leased tasks. The
// first byte picks a queue in memory or one paged from a real SqliteJournal
// (a file per input), which must hold only a window of its tasks.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "rpc/json_value.h"
#include "server/lease_writer.h"
#include "server/sqlite_journal.h"
#include "server/task_queue.h"
#include "server/wire.h"
#include "tests/fuzz/fuzz_input.h"

namespace distributo::server {
namespace {

using fuzz::Input;

// A journal file of this process, made anew for each input.
std::unique_ptr<SqliteJournal> FreshJournal() {
  const std::string path =
      absl::StrCat(std::filesystem::temp_directory_path().string(),
                   "/task_queue_fuzzer.", getpid(), ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  auto journal = SqliteJournal::Open(path);
  if (!journal.ok() || !(*journal)->Recover("fuzz").ok()) __builtin_trap();
  return *std::move(journal);
}

class Driver {
 public:
  explicit Driver(bool paged)
      : journal_(paged ? FreshJournal() : nullptr),
        queue_(
            Options(), [this] { return now_; },
            paged ? journal_->pages() : nullptr) {}

  void Step(Input& in) {
    switch (in.Next() % 13) {
      case 0:
        Enqueue(in.Next() % 16);
        break;
      case 1:
        sessions_.push_back(queue_.OpenSession(Hello()));
        break;
      case 2:
        Lease(in);
        break;
      case 3:
        Submit(in, /*failure=*/false);
        break;
      case 4:
        Submit(in, /*failure=*/true);
        break;
      case 5:
        Extend(in);
        break;
      case 6:
        if (Session* s = Pick(in)) queue_.DisconnectSession(*s);
        break;
      case 7:
        if (Session* s = Pick(in)) queue_.ResumeSession(*s).IgnoreError();
        break;
      case 8:
        now_ += absl::Seconds(in.Next() % 40);
        queue_.Tick(&finished_);
        break;
      case 9:
        MarkHandled();
        break;
      case 10:
        queue_.CloseSource();
        break;
      case 11:
        queue_.Cancel(absl::StrCat("t", in.Next() % 16), "fuzz", &finished_)
            .IgnoreError();
        break;
      case 12:
        Redrive(in);
        break;
    }
    CheckInvariants();
  }

 private:
  using Session = std::string;

  static QueueOptions Options() {
    QueueOptions options;
    options.lease_duration = absl::Seconds(10);
    options.requeue_grace = absl::Seconds(3);
    options.max_attempts = 3;
    options.max_worker_deaths = 2;
    options.retry_backoff = absl::Seconds(1);
    options.max_batch_tasks = 4;
    return options;
  }

  static v1::WorkerHello Hello() {
    v1::WorkerHello hello;
    hello.set_worker_name("fuzz");
    hello.set_slots(2);
    return hello;
  }

  Session* Pick(Input& in) {
    if (sessions_.empty()) return nullptr;
    return &sessions_[in.Next() % sessions_.size()];
  }

  void Enqueue(int id) {
    const google::protobuf::Any payload = *JsonToAny("1");
    std::vector<PackedTask> tasks;
    tasks.emplace_back(absl::StrCat("t", id), payload.type_url(),
                       payload.value());
    if (queue_.paged()) {
      // As Master::Enqueue() does: the queue admits the task at once while
      // its window has room.
      std::vector<TaskRef> added;
      auto count = journal_->AppendTasks(tasks, &added);
      if (!count.ok()) __builtin_trap();
      queue_.AddJournaled(*count, std::move(tasks), added);
      return;
    }
    if (!queue_.Enqueue(std::move(tasks)).ok()) __builtin_trap();
  }

  void Lease(Input& in) {
    Session* session = Pick(in);
    if (session == nullptr) return;
    // As the master writes batches: straight to their bytes, which must
    // parse, and be as long as protobuf would make them.
    WireLeaseWriter writer;
    if (queue_.Lease(*session, in.Next() % 5, &writer) == 0) return;
    grpc::ByteBuffer bytes;
    writer.MoveTo(&bytes);
    const size_t length = bytes.Length();
    v1::TaskBatch batch;
    if (!ParseWire(&bytes, &batch) || batch.ByteSizeLong() != length) {
      __builtin_trap();
    }
    for (const v1::Task& task : batch.tasks().tasks()) {
      leases_.push_back({*session, task.id(), task.epoch()});
    }
  }

  struct Held {
    Session session;
    std::string id;
    uint64_t epoch;
  };

  // A lease seen before, or now and then a made-up one.
  Held PickLease(Input& in) {
    if (leases_.empty() || in.Next() % 8 == 0) {
      Session* session = Pick(in);
      return {session ? *session : "nobody", absl::StrCat("t", in.Next() % 16),
              in.Next()};
    }
    return leases_[in.Next() % leases_.size()];
  }

  void Submit(Input& in, bool failure) {
    const Held held = PickLease(in);
    v1::ResultBatch batch;
    v1::Outcome* outcome = batch.add_outcomes();
    outcome->mutable_lease()->set_task_id(held.id);
    outcome->mutable_lease()->set_epoch(held.epoch);
    if (failure) {
      outcome->mutable_failure()->set_code("fuzz");
      outcome->mutable_failure()->set_retryable(in.Next() % 2 == 0);
    } else {
      *outcome->mutable_result() = *JsonToAny("2");
    }
    queue_.Submit(held.session, batch, &finished_);
  }

  void Extend(Input& in) {
    const Held held = PickLease(in);
    v1::ResultBatch batch;
    batch.add_extensions()->set_task_id(held.id);
    batch.mutable_extensions(0)->set_epoch(held.epoch);
    queue_.Submit(held.session, batch, &finished_);
  }

  // Redrives one dead task, or every one, as Master::Redrive() does: each
  // may then finish once more.
  void Redrive(Input& in) {
    std::vector<std::string> ids;
    if (in.Next() % 2 == 0) ids.push_back(absl::StrCat("t", in.Next() % 16));
    auto plan = queue_.PlanRedrive(ids, 16);
    // Refused once the job is complete; nothing to end if nothing planned.
    if (!plan.ok() || plan->task_ids.empty()) return;
    absl::StatusOr<std::vector<JournaledTask>> rows =
        std::vector<JournaledTask>();
    if (journal_ != nullptr) {
      rows = journal_->Redrive(plan->task_ids);
      if (!rows.ok() || rows->size() != plan->task_ids.size()) {
        __builtin_trap();
      }
    }
    queue_.Redrive(plan->task_ids, std::move(rows));
    for (const std::string& id : plan->task_ids) finished_ids_.erase(id);
  }

  // Journals the outcomes, then marks them handled: the router's order.
  void MarkHandled() {
    const std::vector<FinishedTask> unhandled(finished_.begin() + handled_,
                                              finished_.end());
    std::vector<TaskRef> handled;
    for (const FinishedTask& task : unhandled) handled.push_back(RefOf(task));
    if (journal_ != nullptr && (!journal_->CommitOutcomes(unhandled).ok() ||
                                !journal_->MarkHandled(handled, 0).ok())) {
      __builtin_trap();
    }
    queue_.MarkHandled(handled);
    handled_ = finished_.size();
  }

  void CheckInvariants() {
    for (size_t i = checked_; i < finished_.size(); ++i) {
      // The first terminal outcome wins: never a second one for a task.
      if (!finished_ids_.emplace(finished_[i].task.id()).second)
        __builtin_trap();
    }
    checked_ = finished_.size();
    const QueueStatus status = queue_.Status();
    const QueueCounts& c = status.counts;
    if (c.pending + c.leased + c.backoff + c.done + c.dead != c.total ||
        c.done + c.dead != finished_ids_.size() ||
        c.unhandled != finished_.size() - handled_) {
      __builtin_trap();
    }
    uint64_t held = 0;
    for (const WorkerStatus& worker : status.workers) held += worker.in_flight;
    if (held != c.leased) __builtin_trap();
    // Paged: only unfinished and unhandled tasks are held (the window of
    // pending ones is wider than the 16 ids here).
    if (queue_.paged() &&
        c.in_memory > c.total - (c.done + c.dead) + c.unhandled) {
      __builtin_trap();
    }
  }

  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
  std::unique_ptr<SqliteJournal> journal_;
  TaskQueue queue_;
  std::vector<Session> sessions_;
  std::vector<Held> leases_;
  std::vector<FinishedTask> finished_;
  absl::flat_hash_set<std::string> finished_ids_;
  size_t checked_ = 0;
  size_t handled_ = 0;
};

}  // namespace
}  // namespace distributo::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  distributo::fuzz::Input in(data, size);
  distributo::server::Driver driver(/*paged=*/in.Next() % 2 == 1);
  for (int step = 0; step < 256 && in.more(); ++step) driver.Step(in);
  return 0;
}
