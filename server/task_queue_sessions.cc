// TaskQueue's worker sessions, and what time ends: expired leases, sessions
// gone too long, retries whose backoff is over. Split from task_queue.cc,
// which keeps the state machine, to keep both readable.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "server/random_id.h"
#include "server/task_queue.h"

namespace distributo::server {

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

}  // namespace distributo::server
