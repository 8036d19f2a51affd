#ifndef DISTRIBUTO_SERVER_TASK_RECORD_H_
#define DISTRIBUTO_SERVER_TASK_RECORD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.pb.h"
#include "distributo/v1/task.pb.h"

namespace distributo::server {

enum class TaskState { kPending, kLeased, kBackoff, kDone, kDead };

struct Session;

// The master's bookkeeping of one task. Owned by TaskQueue; not thread-safe.
struct TaskRecord {
  v1::Task task;  // id, payload and labels; released once finished
  TaskState state = TaskState::kPending;
  // The task's size in a leased batch, lease fields included: measured once
  // rather than at every lease.
  uint32_t leased_bytes = 0;
  uint64_t epoch = 0;  // of the latest lease; 0 = never leased
  // Redriven: outcomes of leases up to this epoch are of the run that
  // failed, and stale.
  uint64_t stale_up_to = 0;
  // Restored from a journal: it may hold leases of earlier runs, whose
  // epochs are below this run's base.
  bool from_earlier_run = false;
  Session* holder = nullptr;  // set while kLeased
  absl::Time lease_deadline;  // while kLeased
  absl::Time retry_at;        // while kBackoff
  // When it became pending or was leased: for the wait and run histograms.
  absl::Time since;
  uint32_t attempts = 0;  // leases granted (since the last restart)
  int failures = 0;       // failed attempts reported by workers
  int worker_deaths = 0;  // leases lost to broken streams or expiry
  // Leased alone, as a suspect (worker_deaths > 0), to a session holding
  // nothing else: a loss of this lease is the task's own doing.
  bool alone = false;
  // The latest failure, kept apart: most tasks never fail, and a Failure in
  // every record would cost each pending task 40 bytes and its making.
  std::unique_ptr<v1::Failure> last_failure;
};

// Returns `record`'s latest failure, an empty one if it had none.
inline v1::Failure& MutableLastFailure(TaskRecord& record) {
  if (record.last_failure == nullptr) {
    record.last_failure = std::make_unique<v1::Failure>();
  }
  return *record.last_failure;
}

// One worker session: the leases it holds and whether its stream is up.
struct Session {
  std::string id;
  std::string worker_name;
  std::string peer;  // the stream's address, for the status page
  uint32_t slots = 0;
  uint64_t done = 0;    // results accepted
  uint64_t failed = 0;  // failures accepted
  absl::Time last_seen;
  absl::flat_hash_set<std::string> accepted_types;  // empty = any
  absl::flat_hash_set<TaskRecord*> held;
  TaskRecord* alone = nullptr;  // a suspect it runs alone, getting no other
  bool reserved = false;        // taking no new task, to run a suspect alone
  bool connected = true;
  absl::Time disconnected_at;
};

// A task that reached a terminal state, on its way to the result sink.
struct FinishedTask {
  v1::Task task;  // id, payload, labels
  bool dead = false;
  google::protobuf::Any result;  // when !dead
  v1::Failure failure;           // when dead
  uint32_t attempts = 0;         // leases granted
};

// One task as a journal kept it: unfinished (kPending), or finished (kDone,
// kDead) with its outcome and whether the result sink has had it.
struct StoredTask {
  v1::Task task;  // id, payload, labels
  TaskState state = TaskState::kPending;
  uint32_t attempts = 0;         // leases granted before it finished
  google::protobuf::Any result;  // kDone and not handled
  v1::Failure failure;           // kDead and not handled
  bool handled = false;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_TASK_RECORD_H_
