#ifndef DISTRIBUTO_SERVER_PACKED_TASK_H_
#define DISTRIBUTO_SERVER_PACKED_TASK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "distributo/v1/task.pb.h"

namespace distributo::server {

// A task as the queue keeps it, in a quarter of a v1::Task's memory: its id
// and payload bytes in one heap block, the payload's type URL interned (a
// job has a handful of types), and anything else it carries (labels) in a
// message of its own only when there is any. A v1::Task costs 176 bytes
// before the heap blocks of its id, Any, type URL and value; at tens of
// millions of pending tasks that was most of the master's memory.
//
// The fields a lease stamps on a task (attempt, epoch, lease_deadline) are
// not kept: they are the lease's, not the task's.
//
// Copyable (a deep copy) and movable; not thread-safe. Sizes are 32-bit:
// a task travels in one gRPC message, far smaller than 4 GiB.
class PackedTask {
 public:
  PackedTask() = default;
  // Takes the task's fields, leaving it empty; the other copies it.
  explicit PackedTask(v1::Task&& task);
  explicit PackedTask(const v1::Task& task) : PackedTask(v1::Task(task)) {}
  // A task with only an id.
  explicit PackedTask(absl::string_view id) { SetBytes(id, ""); }
  // A task whose payload is a message of `type_url` serialized as `value`,
  // packed without making the v1::Task: what a source of tasks hands over.
  PackedTask(absl::string_view id, absl::string_view type_url,
             absl::string_view value);

  PackedTask(const PackedTask& other);
  PackedTask& operator=(const PackedTask& other);
  // Leaves `other` empty (no id, no payload).
  PackedTask(PackedTask&& other) noexcept;
  PackedTask& operator=(PackedTask&& other) noexcept;

  absl::string_view id() const { return {bytes_.get(), id_size_}; }
  // The payload's type URL and bytes, both "" without a payload.
  absl::string_view type_url() const;
  absl::string_view payload_value() const;

  // Writes the task into `out`, an empty message.
  void CopyTo(v1::Task* out) const;
  v1::Task ToTask() const;

  // The task as a serialized v1::Task, without making one: its size, and
  // its bytes written at `target`, returning their end. As with protobuf's
  // ByteSizeLong() and SerializeWithCachedSizesToArray(), WireSize() comes
  // first: it measures the fields kept apart too, and caches their size in
  // them, so that a task must not be measured on two threads at once.
  size_t WireSize() const;
  uint8_t* WriteWire(uint8_t* target) const;
  // Both, into `out` (its old bytes replaced).
  void SerializeTo(std::string* out) const;

  // The same id, without the rest: what a finished task keeps to recognise
  // late outcomes.
  PackedTask IdOnly() const { return PackedTask(id()); }

 private:
  void SetBytes(absl::string_view id, absl::string_view value);
  // The size of the google.protobuf.Any it packs (type_url_ set).
  size_t PackedPayloadSize() const;

  // The id, then the payload's value when type_url_ is set.
  std::unique_ptr<char[]> bytes_;
  uint32_t id_size_ = 0;
  uint32_t value_size_ = 0;
  // Interned, never freed. Null when there is no payload, or when it lives
  // in rest_ (past the interning limit, against a flood of distinct types).
  const std::string* type_url_ = nullptr;
  std::unique_ptr<v1::Task> rest_;  // the other fields, if any is set
};

// Packs each task, leaving `tasks` empty.
std::vector<PackedTask> PackTasks(std::vector<v1::Task>&& tasks);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_PACKED_TASK_H_
