#include "server/task_queue.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "server/random_id.h"

namespace distributo::server {
namespace {

// A paged queue keeps at least this many pending tasks in memory while more
// wait on disk, and reads them this many at a time: enough for a few full
// batches between reads (a few MiB of small tasks).
constexpr uint64_t kPageWindow = 4096;
constexpr size_t kPageTasks = 1024;
// How far the window may grow for a session that takes only some payload
// types, looking for tasks of its types further on.
constexpr uint64_t kMaxPageWindow = 65536;
// What leasing adds to a task in a batch, at most: attempt, epoch, deadline,
// and the field's framing.
constexpr size_t kLeaseFieldBytes = 32;

bool Accepts(const Session& session, absl::string_view type_url) {
  return session.accepted_types.empty() ||
         session.accepted_types.contains(type_url);
}

// Pairs the tasks a journal added with the seqs it gave them; `added` lists
// them in the order of `tasks`.
std::vector<JournaledTask> AppendedRows(std::vector<PackedTask> tasks,
                                        const std::vector<TaskRef>& added) {
  std::vector<JournaledTask> rows;
  rows.reserve(added.size());
  auto next = added.begin();
  for (PackedTask& task : tasks) {
    if (next == added.end()) break;
    if (task.id() != next->id) continue;  // journaled already
    JournaledTask& row = rows.emplace_back();
    row.seq = next->seq;
    row.task = std::move(task);
    ++next;
  }
  return rows;
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
    for (const auto& record : records) tasks_.prefetch(record);
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

void TaskQueue::AddJournaled(uint64_t task_count, std::vector<PackedTask> tasks,
                             const std::vector<TaskRef>& added) {
  std::vector<JournaledTask> appended = AppendedRows(std::move(tasks), added);
  {
    absl::MutexLock lock(&mu_);
    AdmitAppendedLocked(std::move(appended));
    journaled_ = std::max(journaled_, task_count);
    counts_.total = journaled_;
  }
  NotifyChange();
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

TaskRecord& TaskQueue::AddJournaledLocked(JournaledTask&& row) {
  TaskRecord& record = AddRecordLocked(std::move(row.task));
  record.seq = row.seq;
  record.from_earlier_run = row.seq <= restored_to_;
  return record;
}

TaskRecord& TaskQueue::AdmitJournaledLocked(JournaledTask&& row,
                                            absl::Time now) {
  const bool unreadable = row.unreadable;
  TaskRecord& record = AddJournaledLocked(std::move(row));
  if (unreadable) {
    ++counts_.pending;  // pending, but in no list: it cannot be leased
    unreadable_.emplace_back(record.task.id());
  } else {
    MakePendingLocked(&record, /*front=*/false, now);
  }
  return record;
}

void TaskQueue::Restore(JournalState state,
                        std::vector<FinishedTask>* unhandled) {
  {
    absl::MutexLock lock(&mu_);
    epoch_base_ = state.generation << 32;
    journaled_ = restored_to_ = counts_.total = state.task_count;
    counts_.done = state.handled_done;
    // Every finished task lies ahead of the first page.
    ahead_ = state.handled_done + state.finished.size();
    for (StoredTask& stored : state.finished) {
      RestoreFinishedLocked(std::move(stored), unhandled);
    }
  }
  NotifyChange();
}

void TaskQueue::RestoreFinishedLocked(StoredTask stored,
                                      std::vector<FinishedTask>* unhandled) {
  const bool dead = stored.state == TaskState::kDead;
  ++(dead ? counts_.dead : counts_.done);
  if (dead) {
    dead_.push_back({stored.task.id(), stored.failure.code(),
                     stored.failure.message(), stored.attempts});
    if (!stored.handled) unhandled_dead_.insert(stored.task.id());
  }
  if (stored.handled) return;
  // Held until handled, to recognise late copies of its outcome; only the
  // id is needed for that.
  AddRecordLocked(PackedTask(stored.task.id())).state = stored.state;
  ++counts_.unhandled;
  FinishedTask& out = unhandled->emplace_back();
  out.task = PackedTask(std::move(stored.task));
  out.seq = stored.seq;
  out.dead = dead;
  out.result = std::move(stored.result);
  out.failure = std::move(stored.failure);
  out.attempts = stored.attempts;
}

void TaskQueue::CloseSource() {
  {
    absl::MutexLock lock(&mu_);
    source_closed_ = true;
  }
  NotifyChange();
}

absl::StatusOr<TaskQueue::Cancelled> TaskQueue::Cancel(
    absl::string_view task_id, absl::string_view reason,
    std::vector<FinishedTask>* finished) {
  Cancelled cancelled;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Lookup> found = FindLocked(task_id);
    if (!found.ok()) return found.status();
    if (found->finished) {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", task_id, " is already finished"));
    }
    TaskRecord* record = found->record;
    if (record == nullptr) {
      return absl::NotFoundError(absl::StrCat("no task ", task_id));
    }
    if (record->state == TaskState::kLeased) {
      cancelled.session_id = record->holder->id;
      cancelled.worker_name = record->holder->worker_name;
      cancelled.lease.set_task_id(std::string(task_id));
      cancelled.lease.set_epoch(record->epoch);
      ReleaseLeaseLocked(record);
    }
    v1::Failure& failure = MutableLastFailure(*record);
    failure.set_code("cancelled");
    failure.set_message(std::string(reason));
    failure.set_retryable(false);
    FinishLocked(record, TaskState::kDead, finished);
  }
  NotifyChange();  // it may have been the last task
  return cancelled;
}

std::vector<DeadTask> TaskQueue::ListDead(size_t offset, size_t limit) {
  absl::MutexLock lock(&mu_);
  std::vector<DeadTask> page;
  for (size_t i = offset; i < dead_.size() && page.size() < limit; ++i) {
    page.push_back(dead_[i]);
  }
  return page;
}

absl::StatusOr<TaskQueue::RedrivePlan> TaskQueue::PlanRedrive(
    std::vector<std::string> task_ids, size_t max_dead) {
  absl::MutexLock lock(&mu_);
  if (CompleteLocked()) {
    return absl::FailedPreconditionError(
        "the job is complete: the master is exiting");
  }
  if (task_ids.empty()) {
    for (size_t i = 0; i < dead_.size() && i < max_dead; ++i) {
      task_ids.push_back(dead_[i].task_id);
    }
  }
  const absl::flat_hash_set<absl::string_view> wanted(task_ids.begin(),
                                                      task_ids.end());
  absl::flat_hash_set<absl::string_view> dead;
  for (const DeadTask& task : dead_) {
    if (wanted.contains(task.task_id)) dead.insert(task.task_id);
  }
  RedrivePlan plan;
  absl::flat_hash_set<absl::string_view> planned;
  for (const std::string& id : task_ids) {
    RedriveVerdict verdict = RedriveVerdict::kRedriven;
    if (!dead.contains(id)) {
      absl::StatusOr<RedriveVerdict> not_dead = NotDeadVerdictLocked(id);
      if (!not_dead.ok()) return not_dead.status();
      verdict = *not_dead;
    } else if (unhandled_dead_.contains(id)) {
      verdict = RedriveVerdict::kNotYetHandled;
    } else if (planned.insert(id).second) {
      plan.task_ids.push_back(id);
    }
    plan.verdicts.emplace_back(id, verdict);
  }
  // The job cannot complete until Redrive() says how it went.
  if (!plan.task_ids.empty()) ++redrives_in_flight_;
  return plan;
}

absl::StatusOr<TaskQueue::RedriveVerdict> TaskQueue::NotDeadVerdictLocked(
    absl::string_view task_id) {
  absl::StatusOr<Lookup> found = FindLocked(task_id);
  if (!found.ok()) return found.status();
  return found->record == nullptr && !found->finished
             ? RedriveVerdict::kUnknown
             : RedriveVerdict::kNotDead;
}

void TaskQueue::Redrive(const std::vector<std::string>& task_ids,
                        absl::StatusOr<std::vector<JournaledTask>> rows) {
  {
    absl::MutexLock lock(&mu_);
    --redrives_in_flight_;
    const absl::Time now = clock_();
    if (!rows.ok()) {
      // The journal may have taken them all the same (a commit reported as
      // failed): its rows are then pending, and the pager or a lookup
      // meeting one ends the redrive (TakeUnsureRedriveLocked()).
      if (paged()) unsure_redrives_.insert(task_ids.begin(), task_ids.end());
    } else if (paged()) {
      // What the journal changed is what is redriven.
      std::vector<std::string> changed;
      for (const JournaledTask& row : *rows) {
        changed.emplace_back(row.task.id());
      }
      const absl::flat_hash_map<std::string, uint64_t> floors =
          TakeDeadLocked(changed);
      for (JournaledTask& row : *rows) {
        const auto floor = floors.find(row.task.id());
        if (floor == floors.end()) continue;
        unsure_redrives_.erase(row.task.id());
        StartAgainLocked(AdmitJournaledLocked(std::move(row), now),
                         floor->second);
      }
    } else {
      for (const auto& [id, floor] : TakeDeadLocked(task_ids)) {
        // A dead task of a queue in memory keeps its record (FinishLocked).
        auto it = tasks_.find(id);
        CHECK(it != tasks_.end()) << "dead task " << id << " has no record";
        TaskRecord& record = **it;
        StartAgainLocked(record, floor);
        MakePendingLocked(&record, /*front=*/false, now);
      }
    }
  }
  NotifyChange();
}

absl::flat_hash_map<std::string, uint64_t> TaskQueue::TakeDeadLocked(
    const std::vector<std::string>& task_ids) {
  const absl::flat_hash_set<absl::string_view> wanted(task_ids.begin(),
                                                      task_ids.end());
  absl::flat_hash_map<std::string, uint64_t> floors;
  dead_.erase(std::remove_if(dead_.begin(), dead_.end(),
                             [&](const DeadTask& task) {
                               if (!wanted.contains(task.task_id)) return false;
                               floors[task.task_id] = task.last_epoch;
                               return true;
                             }),
              dead_.end());
  counts_.dead -= floors.size();
  return floors;
}

void TaskQueue::StartAgainLocked(TaskRecord& record, uint64_t last_epoch) {
  // New leases go on above every lease it had, whose outcomes are stale
  // now: they are of the run that failed, not of the one asked for.
  record.epoch = std::max({record.epoch, last_epoch, epoch_base_});
  record.rare.reset();  // its failures, of the run that failed
  MutableRare(record).stale_up_to = record.epoch;
  record.from_earlier_run = false;
  record.attempts = 0;
  record.failures = 0;
  record.worker_deaths = 0;
}

std::optional<uint64_t> TaskQueue::TakeUnsureRedriveLocked(
    absl::string_view task_id) {
  if (unsure_redrives_.erase(task_id) == 0) return std::nullopt;
  const absl::flat_hash_map<std::string, uint64_t> floors =
      TakeDeadLocked({std::string(task_id)});
  if (floors.empty()) return std::nullopt;
  return floors.begin()->second;
}

bool TaskQueue::source_closed() { return source_closed_.load(); }

std::string TaskQueue::OpenSession(const v1::WorkerHello& hello,
                                   absl::string_view peer,
                                   absl::string_view identity) {
  absl::MutexLock lock(&mu_);
  std::string id = RandomHexId(bitgen_);
  Session& session = sessions_[id];
  session.id = id;
  session.identity = std::string(identity);
  session.worker_name = hello.worker_name();
  session.peer = std::string(peer);
  session.slots = hello.slots();
  session.last_seen = clock_();
  session.accepted_types.insert(hello.accepted_types().begin(),
                                hello.accepted_types().end());
  return id;
}

absl::Status TaskQueue::ResumeSession(absl::string_view session_id,
                                      absl::string_view identity) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Session*> found = FindOwnSessionLocked(session_id, identity);
  if (!found.ok()) return found.status();
  Session* session = *found;
  if (session->connected) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", session_id, " is still connected"));
  }
  session->connected = true;
  return absl::OkStatus();
}

void TaskQueue::DisconnectSession(absl::string_view session_id) {
  absl::MutexLock lock(&mu_);
  if (Session* session = FindSessionLocked(session_id); session != nullptr) {
    session->connected = false;
    session->disconnected_at = clock_();
    UnreserveLocked(*session);
  }
}

absl::Status TaskQueue::CheckSession(absl::string_view session_id,
                                     absl::string_view identity) {
  absl::MutexLock lock(&mu_);
  return FindOwnSessionLocked(session_id, identity).status();
}

absl::StatusOr<Session*> TaskQueue::FindOwnSessionLocked(
    absl::string_view session_id, absl::string_view identity) {
  Session* found = FindSessionLocked(session_id);
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "session ", session_id, " is unknown or its leases were requeued"));
  }
  if (found->identity != identity) {
    return absl::PermissionDeniedError(
        absl::StrCat("session ", session_id, " is another worker's"));
  }
  return found;
}

Session* TaskQueue::FindSessionLocked(absl::string_view session_id) {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

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

void TaskQueue::AdmitAppendedLocked(std::vector<JournaledTask> appended) {
  // Reading them back would cost a page read, under mu_, on the journal's
  // one connection, for the rows just written.
  const absl::Time now = clock_();
  for (JournaledTask& row : appended) {
    if (paged_to_ != journaled_ || row.seq != journaled_ + 1 ||
        counts_.pending >= kPageWindow) {
      return;
    }
    paged_to_ = journaled_ = row.seq;
    AdmitJournaledLocked(std::move(row), now);
  }
}

bool TaskQueue::PageInLocked() {
  if (!paged() || paged_to_ == journaled_) return false;
  absl::StatusOr<std::vector<JournaledTask>> page =
      pages_->ReadTasks(paged_to_, journaled_, kPageTasks);
  if (!page.ok()) {
    LOG_EVERY_N(WARNING, 100) << "Cannot read pending tasks from the journal "
                                 "(they wait there; retrying): "
                              << page.status();
    page_failed_ = true;
    return false;
  }
  const absl::Time now = clock_();
  for (JournaledTask& row : *page) {
    paged_to_ = row.seq;
    if (row.finished || tasks_.contains(row.task.id())) {
      --ahead_;
      continue;
    }
    if (std::optional<uint64_t> floor =
            TakeUnsureRedriveLocked(row.task.id())) {
      --ahead_;  // counted there while dead
      StartAgainLocked(AdmitJournaledLocked(std::move(row), now), *floor);
      continue;
    }
    AdmitJournaledLocked(std::move(row), now);
  }
  // Paged in by one session's lease, maybe of types only others take.
  if (!page->empty()) wake_all_ = true;
  return !page->empty();
}

bool TaskQueue::EndUnreadableLocked(std::vector<FinishedTask>* finished) {
  const bool any = !unreadable_.empty();
  for (const std::string& id : unreadable_) {
    auto it = tasks_.find(id);
    // A late result may have finished it meanwhile.
    if (it == tasks_.end() || (*it)->state != TaskState::kPending) continue;
    LOG(ERROR) << "Task " << id
               << " is dead: its row in the journal does not parse";
    TaskRecord& record = **it;
    v1::Failure& failure = MutableLastFailure(record);
    failure.set_code("unreadable");
    failure.set_message("its row in the journal does not parse");
    FinishLocked(&record, TaskState::kDead, finished);
  }
  unreadable_.clear();
  return any;
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
                   out.failure.code(), out.failure.message()});
  }
  out.attempts = record->attempts;
  if (out.dead) {
    dead_.push_back({std::string(record->task.id()), out.failure.code(),
                     out.failure.message(), out.attempts, record->epoch});
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

void TaskQueue::Tick(std::vector<FinishedTask>* finished) {
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_();
    changed |= ExpireLeasesLocked(now, finished);
    changed |= DropExpiredSessionsLocked(now, finished);
    changed |= ReleaseRetriesLocked(now);
    changed |= EndUnreadableLocked(finished);
    changed |= std::exchange(page_failed_, false);
    changed |= std::exchange(wake_all_, false);
  }
  if (changed) NotifyChange();
}

void TaskQueue::RenewLeases() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  for (auto& [id, session] : sessions_) {
    for (TaskRecord* record : session.held) {
      record->deadline =
          std::max(record->deadline, now + options_.lease_duration);
    }
    if (!session.connected) session.disconnected_at = now;
  }
}

bool TaskQueue::ExpireLeasesLocked(absl::Time now,
                                   std::vector<FinishedTask>* finished) {
  std::vector<TaskRecord*> expired;
  for (const auto& [id, session] : sessions_) {
    for (TaskRecord* record : session.held) {
      if (record->deadline <= now) expired.push_back(record);
    }
  }
  if (expired.empty()) return false;
  counts_.lease_expiries += expired.size();
  // One line per tick: a hung worker may let hundreds expire at once.
  LOG(WARNING) << expired.size() << " leases expired, e.g. task "
               << expired.front()->task.id() << " held by "
               << expired.front()->holder->worker_name
               << "; their tasks go back to the queue";
  for (TaskRecord* record : expired) {
    LoseLeaseLocked(record, "lease expired", finished);
  }
  return true;
}

bool TaskQueue::DropExpiredSessionsLocked(absl::Time now,
                                          std::vector<FinishedTask>* finished) {
  std::vector<std::string> expired;
  for (auto& [id, session] : sessions_) {
    if (!session.connected &&
        session.disconnected_at + options_.requeue_grace <= now) {
      expired.push_back(id);
    }
  }
  bool requeued = false;
  for (const std::string& id : expired) {
    Session& session = sessions_.at(id);
    std::vector<TaskRecord*> held(session.held.begin(), session.held.end());
    LOG(WARNING) << "worker " << session.worker_name << " (" << session.peer
                 << ") did not come back within the requeue grace; its "
                 << held.size() << " leases go back to the queue";
    for (TaskRecord* record : held) {
      LoseLeaseLocked(record, "worker disconnected", finished);
    }
    requeued |= !held.empty();
    sessions_.erase(id);
  }
  return requeued;
}

bool TaskQueue::ReleaseRetriesLocked(absl::Time now) {
  bool released = false;
  while (!retries_.empty() && retries_.begin()->first <= now) {
    TaskRecord* record = retries_.begin()->second;
    retries_.erase(retries_.begin());
    --counts_.backoff;
    MakePendingLocked(record, /*front=*/false, now);
    released = true;
  }
  return released;
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
