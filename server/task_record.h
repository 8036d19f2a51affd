#ifndef DISTRIBUTO_SERVER_TASK_RECORD_H_
#define DISTRIBUTO_SERVER_TASK_RECORD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.pb.h"
#include "distributo/v1/task.pb.h"
#include "server/packed_task.h"

namespace distributo::server {

// One byte: TaskRecord keeps one per task.
enum class TaskState : uint8_t { kPending, kLeased, kBackoff, kDone, kDead };

struct Session;

// What few tasks have, kept apart from TaskRecord: a Failure in every
// record would cost each pending task 40 bytes and its making.
struct RareTaskFields {
  v1::Failure last_failure;  // the latest, if it failed
  // Redriven: outcomes of leases up to this epoch are of the run that
  // failed, and stale.
  uint64_t stale_up_to = 0;
};

// A point in time in 8 bytes, where absl::Time takes 16: nanoseconds since
// the Unix epoch, exact until the year 2262.
class CompactTime {
 public:
  CompactTime() = default;
  explicit CompactTime(absl::Time time)
      : unix_nanos_(absl::ToUnixNanos(time)) {}
  absl::Time time() const { return absl::FromUnixNanos(unix_nanos_); }

 private:
  int64_t unix_nanos_ = 0;
};

// The master's bookkeeping of one task. Owned by TaskQueue; not thread-safe.
// There is one per pending task, so every byte counts (bench/ measures them
// at 10M pending tasks): the fields are ordered to leave no padding.
struct TaskRecord {
  // Id, payload and labels; only the id once finished. Its id never
  // changes: TaskQueue finds the record by it.
  PackedTask task;
  uint64_t epoch = 0;  // of the latest lease; 0 = never leased
  // Its row in the journal of a paged queue (JournaledTask::seq); 0 in
  // memory.
  uint64_t seq = 0;
  Session* holder = nullptr;             // set while kLeased
  std::unique_ptr<RareTaskFields> rare;  // null for most tasks
  // While kLeased, when the lease ends; while kBackoff, when it is retried.
  absl::Time deadline;
  // When it became pending or was leased: for the wait and run histograms.
  CompactTime since;
  // The task's size in a leased batch, lease fields included: measured once
  // rather than at every lease.
  uint32_t leased_bytes = 0;
  uint32_t attempts = 0;  // leases granted (since the last restart)
  int failures = 0;       // failed attempts reported by workers
  int worker_deaths = 0;  // leases lost to broken streams or expiry
  // Of its id, for the tables that find records by id (RecordsById: the
  // queue's of every task, each session's of its leases): a table grows
  // without reading every id again, a cache miss each at millions. Set when
  // the record is filled; its id, hence this, never changes after.
  uint32_t id_hash = 0;
  TaskState state = TaskState::kPending;
  // Restored from a journal: it may hold leases of earlier runs, whose
  // epochs are below this run's base.
  bool from_earlier_run = false;
  // Leased alone, as a suspect (worker_deaths > 0), to a session holding
  // nothing else: a loss of this lease is the task's own doing.
  bool alone = false;
};

// Most of a pending task's memory (bench/ --pending measures it, against a
// goal of 200 bytes): a field more must find room in the padding, or go to
// RareTaskFields.
static_assert(sizeof(TaskRecord) <= 112, "TaskRecord grew");

// Returns `record`'s rare fields, made (empty) if it had none.
inline RareTaskFields& MutableRare(TaskRecord& record) {
  if (record.rare == nullptr) record.rare = std::make_unique<RareTaskFields>();
  return *record.rare;
}

// Returns `record`'s latest failure, an empty one if it had none.
inline v1::Failure& MutableLastFailure(TaskRecord& record) {
  return MutableRare(record).last_failure;
}

// Returns the epoch up to which `record`'s outcomes are stale.
inline uint64_t StaleUpTo(const TaskRecord& record) {
  return record.rare != nullptr ? record.rare->stale_up_to : 0;
}

// Hashes and compares records by their task's id, and finds them by an id:
// the hash is the one each record keeps (id_hash), so that a table grows
// without reading every id again, a cache miss each at millions.
struct RecordsById {
  using is_transparent = void;
  // 32 bits, as a record keeps it: enough for tables of tens of millions.
  static uint32_t Hash(absl::string_view id) {
    return static_cast<uint32_t>(absl::Hash<absl::string_view>()(id));
  }
  static absl::string_view Id(absl::string_view id) { return id; }
  static absl::string_view Id(const TaskRecord* record) {
    return record->task.id();
  }
  static absl::string_view Id(const std::unique_ptr<TaskRecord>& record) {
    return record->task.id();
  }
  size_t operator()(absl::string_view id) const { return Hash(id); }
  size_t operator()(const TaskRecord* record) const { return record->id_hash; }
  size_t operator()(const std::unique_ptr<TaskRecord>& record) const {
    return record->id_hash;
  }
  // Compares by id. Two records (a record as the key, as inserts and erases
  // have, and a slot) compare their stored hashes first: a table compares a
  // key with every record whose 7 bits of hash in its control bytes match
  // (1 in 128 of those probed), and reading the slot's id would be a second
  // wait for memory.
  template <typename Left, typename Right>
  bool operator()(const Left& left, const Right& right) const {
    if constexpr (!std::is_convertible_v<Left, absl::string_view> &&
                  !std::is_convertible_v<Right, absl::string_view>) {
      if (left->id_hash != right->id_hash) return false;
    }
    return Id(left) == Id(right);
  }
};

// Asks for the memory where `table` keeps the key `key_of` gives for each of
// `items` (its control bytes and slot), so that the lookups made after
// overlap their waits. Why not table.prefetch() in a loop: GCC 12's analysis
// of what a function touches (ipa-modref) finds no side effect in a prefetch,
// and it deleted Enqueue's calls to an out-of-line prefetch() (and to this
// function, until it had the asm statement below). Flattened, so that the
// prefetches are this function's own. Submit's lookups by string id, whose
// prefetch() GCC inlines today, use it too, so that no later decision of the
// compiler's can drop theirs.
template <typename Table, typename Items, typename KeyOf>
ABSL_ATTRIBUTE_NOINLINE __attribute__((flatten)) void PrefetchSlots(
    const Table& table, const Items& items, KeyOf key_of) {
  for (const auto& item : items) table.prefetch(key_of(item));
  asm volatile("");  // a side effect, which GCC must keep the call for
}

// The same, for items that are the table's keys themselves.
template <typename Table, typename Keys>
void PrefetchSlots(const Table& table, const Keys& keys) {
  PrefetchSlots(
      table, keys, [](const auto& key) -> const auto& { return key; });
}

// One worker session: the leases it holds and whether its stream is up.
struct Session {
  std::string id;
  std::string identity;  // its token's name; "" without tokens
  std::string worker_name;
  std::string peer;  // the stream's address, for the status page
  uint32_t slots = 0;
  uint64_t done = 0;    // results accepted
  uint64_t failed = 0;  // failures accepted
  absl::Time last_seen;
  absl::flat_hash_set<std::string> accepted_types;  // empty = any
  // Its leases: the only index of leased tasks the queue keeps, since the
  // expiry sweep is rare and each lease costs the index an insert and an
  // erase. By id, so that most outcomes find their record here, in a table
  // of a few batches, rather than in the queue's of every task.
  absl::flat_hash_set<TaskRecord*, RecordsById, RecordsById> held;
  TaskRecord* alone = nullptr;  // a suspect it runs alone, getting no other
  bool reserved = false;        // taking no new task, to run a suspect alone
  bool connected = true;
  absl::Time disconnected_at;
};

// A task that reached a terminal state, on its way to the result sink.
struct FinishedTask {
  PackedTask task;   // id, payload, labels
  uint64_t seq = 0;  // its row in the journal, if known; 0: find it by id
  bool dead = false;
  google::protobuf::Any result;  // when !dead
  // When dead. Optional, so that a result, the common case, neither makes
  // nor moves nor destroys a Failure on the way to the sink (about 120
  // instructions per task, 1.5% of the master's in memory).
  std::optional<v1::Failure> failure;
  uint32_t attempts = 0;  // leases granted
};

// Returns `task`'s failure: empty if it has none (it has a result).
inline const v1::Failure& FailureOf(const FinishedTask& task) {
  return task.failure.has_value() ? *task.failure
                                  : v1::Failure::default_instance();
}

// A finished task as the journal finds its row: by seq, when the queue
// knows it (a paged queue), which is cheaper than by id.
struct TaskRef {
  std::string id;
  uint64_t seq = 0;  // 0: unknown
};

inline TaskRef RefOf(const FinishedTask& finished) {
  return {std::string(finished.task.id()), finished.seq};
}

// One task as a journal kept it: unfinished (kPending), or finished (kDone,
// kDead) with its outcome and whether the result sink has had it.
struct StoredTask {
  v1::Task task;     // id, payload, labels
  uint64_t seq = 0;  // its row
  TaskState state = TaskState::kPending;
  uint32_t attempts = 0;         // leases granted before it finished
  google::protobuf::Any result;  // kDone and not handled
  v1::Failure failure;           // kDead and not handled
  bool handled = false;
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_TASK_RECORD_H_
