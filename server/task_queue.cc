#include "server/task_queue.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace distributo::server {
namespace {

// What leasing adds to a task in a batch, at most: attempt, epoch, deadline,
// and the field's framing.
constexpr size_t kLeaseFieldBytes = 32;

bool Accepts(const Session& session, absl::string_view type_url) {
  return session.accepted_types.empty() ||
         session.accepted_types.contains(type_url);
}

}  // namespace

double FinishedPerSecond(const QueueCounts& counts, uint64_t finished_before,
                         absl::Duration elapsed) {
  const uint64_t finished = counts.done + counts.dead;
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 && finished > finished_before
             ? (finished - finished_before) / seconds
             : 0;
}

absl::Status CheckIds(const std::vector<PackedTask>& tasks) {
  for (const PackedTask& task : tasks) {
    if (task.id().empty()) {
      return absl::InvalidArgumentError("a task has an empty id");
    }
  }
  return absl::OkStatus();
}

TaskQueue::TaskQueue(QueueOptions options, Clock clock, TaskPages* pages)
    : options_(options), clock_(std::move(clock)), pages_(pages) {}

void TaskQueue::SetChangeListener(ChangeListener listener) {
  listener_ = std::move(listener);
}

void TaskQueue::NotifyChange(absl::string_view session_id) {
  if (listener_) listener_(session_id);
}

absl::StatusOr<size_t> TaskQueue::Enqueue(std::vector<PackedTask> tasks,
                                          std::vector<std::string>* added_ids) {
  if (paged()) {
    return absl::FailedPreconditionError(
        "a paged queue takes its tasks from its journal (AddJournaled)");
  }
  if (absl::Status status = CheckIds(tasks); !status.ok()) return status;
  // Made before taking the lock, which leasing and outcomes wait for.
  std::vector<std::unique_ptr<TaskRecord>> records;
  records.reserve(tasks.size());
  for (PackedTask& task : tasks) {
    records.push_back(std::make_unique<TaskRecord>());
    FillRecord(records.back().get(), std::move(task));
  }
  std::vector<TaskRecord*> added;
  added.reserve(records.size());
  {
    absl::MutexLock lock(&mu_);
    // As in Submit(): the lookups' waits for memory overlap. By the hash
    // each record keeps, as the insert below finds it.
    PrefetchSlots(tasks_, records);
    for (std::unique_ptr<TaskRecord>& record : records) {
      record->epoch = epoch_base_;
      TaskRecord* fresh = record.get();
      // One lookup per task: a known id keeps the record it has.
      if (tasks_.insert(std::move(record)).second) added.push_back(fresh);
    }
    counts_.total += added.size();
    const absl::Time now = clock_();
    for (TaskRecord* record : added) {
      MakePendingLocked(record, /*front=*/false, now);
      if (added_ids != nullptr) added_ids->emplace_back(record->task.id());
    }
  }
  if (!added.empty()) NotifyChange();
  return added.size();
}

TaskRecord& TaskQueue::AddRecordLocked(PackedTask&& task) {
  TaskRecord* record;
  if (auto it = tasks_.find(task.id()); it != tasks_.end()) {
    record = it->get();  // the same id, filled anew
    FillRecord(record, std::move(task));
  } else {
    auto fresh = std::make_unique<TaskRecord>();
    FillRecord(fresh.get(), std::move(task));  // before its id is hashed
    record = tasks_.insert(std::move(fresh)).first->get();
  }
  record->epoch = epoch_base_;
  return *record;
}

void TaskQueue::FillRecord(TaskRecord* record, PackedTask&& task) {
  record->task = std::move(task);
  // Its size as a v1::Task, without asking protobuf to measure it again.
  record->leased_bytes = record->task.WireSize() + kLeaseFieldBytes;
  record->id_hash = RecordsById::Hash(record->task.id());
}

void TaskQueue::CloseSource() {
  {
    absl::MutexLock lock(&mu_);
    source_closed_ = true;
  }
  NotifyChange();
}

bool TaskQueue::source_closed() { return source_closed_.load(); }

void TaskQueue::MakePendingLocked(TaskRecord* record, bool front,
                                  absl::Time now) {
  record->state = TaskState::kPending;
  record->since = CompactTime(now);
  PendingList& list = WaitingListLocked(*record);
  if (front) {
    list.push_front(record);
  } else {
    list.push_back(record);
  }
  ++counts_.pending;
}

size_t TaskQueue::Lease(absl::string_view session_id, size_t max_tasks,
                        v1::LeasedTasks* out) {
  LeasedTasksWriter writer(out);
  return Lease(session_id, max_tasks, &writer);
}

size_t TaskQueue::Lease(absl::string_view session_id, size_t max_tasks,
                        LeaseWriter* out) {
  absl::MutexLock lock(&mu_);
  Session* session = FindSessionLocked(session_id);
  if (session == nullptr || !session->connected || session->alone != nullptr ||
      max_tasks == 0 || BackloggedLocked()) {
    return 0;
  }
  max_tasks = std::min(max_tasks, options_.max_batch_tasks);
  const absl::Time now = clock_();
  size_t bytes = 0;
  size_t leased = 0;
  if (!session->held.empty()) {
    if (ReserveForSuspectLocked(*session)) return 0;  // drains first
  } else {
    UnreserveLocked(*session);
    if (TaskRecord* suspect = PopSuspectLocked(*session)) {
      GrantLeaseLocked(suspect, session, now, out);
      suspect->alone = true;
      session->alone = suspect;
      max_tasks = leased = 1;
    }
  }
  while (leased < max_tasks && bytes < options_.max_batch_bytes) {
    // The first task always goes: admission keeps each task below the limit.
    size_t budget = leased == 0 ? SIZE_MAX : options_.max_batch_bytes - bytes;
    TaskRecord* record = NextPendingLocked(*session, budget);
    if (record == nullptr) break;
    GrantLeaseLocked(record, session, now, out);
    bytes += record->leased_bytes;
    ++leased;
  }
  if (leased > 0) out->End(options_.lease_duration);
  return leased;
}

TaskRecord* TaskQueue::NextPendingLocked(const Session& session,
                                         size_t byte_budget) {
  if (counts_.pending < kPageWindow) PageInLocked();
  TaskRecord* record = PopPendingLocked(session, byte_budget);
  while (record == nullptr && !HasPendingForLocked(session) &&
         counts_.pending < kMaxPageWindow && PageInLocked()) {
    record = PopPendingLocked(session, byte_budget);
  }
  return record;
}

TaskRecord* TaskQueue::PopPendingLocked(const Session& session,
                                        size_t byte_budget) {
  for (auto& [type_url, list] : pending_) {
    if (list.empty() || !Accepts(session, type_url)) continue;
    if (list.front()->leased_bytes > byte_budget) return nullptr;
    TaskRecord* record = list.front();
    list.pop_front();
    return record;
  }
  return nullptr;
}

TaskRecord* TaskQueue::PopSuspectLocked(const Session& session) {
  for (auto it = suspects_.begin(); it != suspects_.end(); ++it) {
    if (Accepts(session, (*it)->task.type_url())) {
      TaskRecord* record = *it;
      suspects_.erase(it);
      return record;
    }
  }
  return nullptr;
}

bool TaskQueue::ReserveForSuspectLocked(Session& session) {
  if (session.reserved) return true;
  if (reserved_ >= suspects_.size()) return false;
  const bool takes_one =
      std::any_of(suspects_.begin(), suspects_.end(), [&](TaskRecord* task) {
        return Accepts(session, task->task.type_url());
      });
  if (!takes_one) return false;
  session.reserved = true;
  ++reserved_;
  return true;
}

void TaskQueue::UnreserveLocked(Session& session) {
  if (!session.reserved) return;
  session.reserved = false;
  --reserved_;
}

TaskQueue::PendingList& TaskQueue::WaitingListLocked(const TaskRecord& record) {
  if (record.worker_deaths > 0) return suspects_;
  const absl::string_view type_url = record.task.type_url();
  // Comparing with the last type costs less than hashing the URL.
  if (last_pending_ == nullptr || last_pending_->first != type_url) {
    last_pending_ = &*pending_.try_emplace(type_url).first;
  }
  return last_pending_->second;
}

bool TaskQueue::HasPendingForLocked(const Session& session) const {
  for (const auto& [type_url, list] : pending_) {
    if (!list.empty() && Accepts(session, type_url)) return true;
  }
  return false;
}

absl::StatusOr<TaskQueue::Lookup> TaskQueue::FindLocked(
    absl::string_view task_id) {
  if (auto it = tasks_.find(task_id); it != tasks_.end()) {
    return Lookup::Of(it->get());
  }
  if (!paged()) return Lookup();
  absl::StatusOr<std::optional<JournaledTask>> row = pages_->FindTask(task_id);
  if (!row.ok()) return row.status();
  // Past journaled_, its Enqueue() has not returned (or failed): unknown.
  if (!row->has_value() || (*row)->seq > journaled_) return Lookup();
  if ((*row)->finished) return Lookup{nullptr, true};
  if ((*row)->unreadable) {
    return absl::DataLossError(
        absl::StrCat("the journal's row of task ", task_id, " does not parse"));
  }
  if (std::optional<uint64_t> floor =
          TakeUnsureRedriveLocked((*row)->task.id())) {
    // Counted in ahead_ while dead (or paged in long ago): in memory now,
    // the pager skips it as it would a dead one.
    TaskRecord& record = AdmitJournaledLocked(**std::move(row), clock_());
    StartAgainLocked(record, *floor);
    wake_all_ = true;
    return Lookup{&record, false};
  }
  // Pending on disk, hence past paged_to_: the pager will skip it.
  ++ahead_;
  TaskRecord& record = AddJournaledLocked(**std::move(row));
  MakePendingLocked(&record, /*front=*/true, clock_());
  wake_all_ = true;
  return Lookup{&record, false};
}

void TaskQueue::GrantLeaseLocked(TaskRecord* record, Session* session,
                                 absl::Time now, LeaseWriter* out) {
  --counts_.pending;
  ++counts_.leased;
  ++counts_.leases;
  stats_.OnLease(now - record->since.time());
  record->since = CompactTime(now);
  session->last_seen = now;
  record->state = TaskState::kLeased;
  record->alone = false;
  record->holder = session;
  record->deadline = now + options_.lease_duration;
  ++record->epoch;
  ++record->attempts;
  session->held.insert(record);
  out->Add(record->task, record->attempts, record->epoch, record->deadline);
}

void TaskQueue::ReleaseLeaseLocked(TaskRecord* record) {
  if (record->state != TaskState::kLeased) return;
  --counts_.leased;
  if (record->holder->alone == record) record->holder->alone = nullptr;
  record->holder->held.erase(record);
  record->holder = nullptr;
}

void TaskQueue::SucceedLocked(TaskRecord* record,
                              std::vector<FinishedTask>* finished) {
  ReleaseLeaseLocked(record);
  FinishLocked(record, TaskState::kDone, finished);
}

void TaskQueue::FailLocked(TaskRecord* record, const v1::Failure& failure,
                           absl::Time now,
                           std::vector<FinishedTask>* finished) {
  stats_.OnFailure(
      {now, std::string(record->task.id()),
       record->holder != nullptr ? record->holder->worker_name : "",
       failure.code(), failure.message()});
  ReleaseLeaseLocked(record);
  ++record->failures;
  ++counts_.failures;
  MutableLastFailure(*record) = failure;
  if (!failure.retryable() || record->failures >= options_.max_attempts) {
    FinishLocked(record, TaskState::kDead, finished);
    return;
  }
  record->state = TaskState::kBackoff;
  const absl::Duration backoff = BackoffLocked(record->failures);
  record->deadline = now + backoff;
  // Rate-limited: a job whose every task fails would flood the log.
  LOG_EVERY_N(INFO, 20) << "task " << record->task.id() << " failed attempt "
                        << record->failures << " (" << failure.code() << ": "
                        << failure.message() << "); retrying in "
                        << absl::Trunc(backoff, absl::Milliseconds(1))
                        << " [every 20th failure is logged]";
  retries_.emplace(record->deadline, record);
  ++counts_.backoff;
}

void TaskQueue::LoseLeaseLocked(TaskRecord* record, absl::string_view why,
                                std::vector<FinishedTask>* finished) {
  const bool alone = record->alone;
  ReleaseLeaseLocked(record);
  ++record->worker_deaths;
  // Only a loss while it ran alone is surely its own.
  if (!alone || record->worker_deaths < options_.max_worker_deaths) {
    ++counts_.requeues;
    MakePendingLocked(record, /*front=*/true, clock_());
    return;
  }
  v1::Failure& failure = MutableLastFailure(*record);
  failure.set_code("worker_lost");
  failure.set_message(absl::StrCat("lost ", record->worker_deaths,
                                   " leases (poison task?); last: ", why));
  failure.set_retryable(false);
  FinishLocked(record, TaskState::kDead, finished);
}

void TaskQueue::FinishLocked(TaskRecord* record, TaskState state,
                             std::vector<FinishedTask>* finished) {
  StopWaitingLocked(record);
  record->state = state;
  ++(state == TaskState::kDone ? counts_.done : counts_.dead);
  ++counts_.unhandled;
  FinishedTask& out = finished->emplace_back();
  out.seq = record->seq;
  out.dead = state == TaskState::kDead;
  if (out.dead) {
    out.failure = MutableLastFailure(*record);
    stats_.OnDead({clock_(), std::string(record->task.id()), "",
                   out.failure->code(), out.failure->message()});
  }
  out.attempts = record->attempts;
  if (out.dead) {
    dead_.push_back({std::string(record->task.id()), out.failure->code(),
                     out.failure->message(), out.attempts, record->epoch});
    unhandled_dead_.emplace(record->task.id());
  }
  if (out.dead && !paged()) {
    // Kept for a redrive; a paged queue's journal keeps it instead.
    out.task = record->task;
    return;
  }
  // Only the id is needed from now on, to recognise duplicates.
  out.task = std::exchange(record->task, record->task.IdOnly());
  record->rare.reset();
}

void TaskQueue::StopWaitingLocked(TaskRecord* record) {
  if (record->state == TaskState::kPending) {
    // Rare (an old lease's result for a requeued task), and requeued tasks
    // wait at the front.
    PendingList& list = WaitingListLocked(*record);
    if (auto it = std::find(list.begin(), list.end(), record);
        it != list.end()) {
      list.erase(it);
    }
    --counts_.pending;
  } else if (record->state == TaskState::kBackoff) {
    retries_.erase({record->deadline, record});
    --counts_.backoff;
  }
}

absl::Duration TaskQueue::BackoffLocked(int failures) {
  absl::Duration backoff = options_.retry_backoff;
  for (int i = 1; i < failures && backoff < options_.max_retry_backoff; ++i) {
    backoff *= 2;
  }
  backoff = std::min(backoff, options_.max_retry_backoff);
  const double jitter = options_.retry_jitter;
  if (jitter <= 0) return backoff;
  return backoff * absl::Uniform(bitgen_, 1.0 - jitter, 1.0 + jitter);
}

void TaskQueue::MarkHandled(const std::vector<TaskRef>& tasks) {
  bool complete, caught_up;
  {
    absl::MutexLock lock(&mu_);
    const bool backlogged = BackloggedLocked();
    counts_.unhandled -= std::min<uint64_t>(tasks.size(), counts_.unhandled);
    caught_up = backlogged && !BackloggedLocked();
    if (!unhandled_dead_.empty()) {
      for (const TaskRef& task : tasks) unhandled_dead_.erase(task.id);
    }
    // The journal now answers for them, as for the tasks still on disk.
    if (paged()) {
      for (const TaskRef& task : tasks) tasks_.erase(task.id);
    }
    complete = CompleteLocked();
  }
  // Leasing resumes once the backlog is gone; otherwise only the end of the
  // job is news.
  if (complete || caught_up) NotifyChange();
}

bool TaskQueue::BackloggedLocked() const {
  return counts_.unhandled >= options_.max_unhandled;
}

bool TaskQueue::CompleteLocked() const {
  return source_closed_ && counts_.done + counts_.dead == counts_.total &&
         counts_.unhandled == 0 && redrives_in_flight_ == 0;
}

uint64_t TaskQueue::PendingLocked() const {
  return counts_.pending + (journaled_ - paged_to_ - ahead_);
}

QueueCounts TaskQueue::Counts() {
  absl::MutexLock lock(&mu_);
  return CountsLocked();
}

QueueCounts TaskQueue::CountsLocked() {
  QueueCounts counts = counts_;
  counts.pending = PendingLocked();
  counts.in_memory = tasks_.size();
  counts.sessions =
      std::count_if(sessions_.begin(), sessions_.end(),
                    [](const auto& entry) { return entry.second.connected; });
  counts.complete = CompleteLocked();
  return counts;
}

QueueStatus TaskQueue::Status() {
  absl::MutexLock lock(&mu_);
  QueueStatus status;
  status.counts = CountsLocked();
  for (const auto& [id, session] : sessions_) {
    status.workers.push_back({id, session.worker_name, session.peer,
                              session.slots, session.held.size(), session.done,
                              session.failed, session.connected,
                              session.last_seen});
  }
  std::sort(status.workers.begin(), status.workers.end(),
            [](const WorkerStatus& a, const WorkerStatus& b) {
              return std::tie(a.name, a.session_id) <
                     std::tie(b.name, b.session_id);
            });
  status.schedule_to_start = stats_.schedule_to_start();
  status.task_duration = stats_.task_duration();
  status.recent_failures = stats_.recent_failures();
  status.recent_dead = stats_.recent_dead();
  return status;
}

bool TaskQueue::WaitForPendingBelow(size_t count, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto below = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return PendingLocked() < count;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&below), timeout);
}

bool TaskQueue::IsComplete() {
  if (!source_closed_.load()) return false;  // without waiting for mu_
  absl::MutexLock lock(&mu_);
  return CompleteLocked();
}

bool TaskQueue::WaitForCompletion(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto complete = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return CompleteLocked();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&complete), timeout);
}

}  // namespace distributo::server
