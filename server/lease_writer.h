#ifndef DISTRIBUTO_SERVER_LEASE_WRITER_H_
#define DISTRIBUTO_SERVER_LEASE_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "distributo/v1/distributor.pb.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/packed_task.h"

namespace distributo::server {

// Where TaskQueue::Lease() puts the tasks it leases, under the queue's lock:
// a task may change once it is released, so each is taken in full at once.
class LeaseWriter {
 public:
  virtual ~LeaseWriter() = default;

  // Adds `task`, leased under `epoch` until `deadline`, its `attempt`th.
  virtual void Add(const PackedTask& task, uint32_t attempt, uint64_t epoch,
                   absl::Time deadline) = 0;
  // Ends a batch of one or more tasks, each leased for `duration`.
  virtual void End(absl::Duration duration) = 0;
};

// Into a v1::LeasedTasks message: what the wire writer's bytes must parse
// to (tests compare them).
class LeasedTasksWriter final : public LeaseWriter {
 public:
  // Borrows `out`, which must outlive the writer.
  explicit LeasedTasksWriter(v1::LeasedTasks* out) : out_(out) {}

  void Add(const PackedTask& task, uint32_t attempt, uint64_t epoch,
           absl::Time deadline) override;
  void End(absl::Duration duration) override;

 private:
  v1::LeasedTasks* const out_;
};

// Into the bytes of a v1::TaskBatch holding the tasks, written from the
// packed tasks directly: a batch of a hundred tasks costs no message per
// task, nor a copy of each into one and then out of it again to the wire
// (an eighth of the instructions the master spent per task in memory).
class WireLeaseWriter final : public LeaseWriter {
 public:
  WireLeaseWriter();

  void Add(const PackedTask& task, uint32_t attempt, uint64_t epoch,
           absl::Time deadline) override;
  void End(absl::Duration duration) override;

  // Replaces `bytes` with the batch, after End(), and starts a new one.
  void MoveTo(grpc::ByteBuffer* bytes);

 private:
  // Starts a new batch.
  void Clear();
  // Makes room for `size` more bytes and returns where they start.
  uint8_t* Extend(size_t size);
  // Returns a task's lease_deadline field, tag and all, for `deadline`:
  // the tasks of a batch share one, so it is encoded once, not per task.
  absl::string_view DeadlineField(absl::Time deadline);

  // Room at the front for the TaskBatch's tag and the length of the
  // LeasedTasks, which is known only once every task is in.
  static constexpr size_t kHeaderRoom = 1 + 5;

  std::string bytes_;  // kHeaderRoom, then the LeasedTasks
  size_t header_start_ = kHeaderRoom;
  size_t reserve_ = 0;                          // the last batch's size
  std::optional<absl::Time> encoded_deadline_;  // none encoded yet
  std::string deadline_field_;                  // for encoded_deadline_
};

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_LEASE_WRITER_H_
