#ifndef DISTRIBUTO_BENCH_BENCH_TASK_H_
#define DISTRIBUTO_BENCH_BENCH_TASK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "server/packed_task.h"

namespace distributo::bench {

// The benchmark's trivial task: a google.protobuf.BytesValue of 32 bytes,
// the first 8 of which hold the CLOCK_MONOTONIC time it was enqueued (one
// clock for every process of the machine), so that a worker can tell how
// long it waited. Its result is a google.protobuf.UInt64Value: the payload's
// length. The raw baseline and the master carry exactly these messages.
inline constexpr size_t kPayloadBytes = 32;

// Returns CLOCK_MONOTONIC in nanoseconds.
int64_t MonotonicNanos();

// Writes the payload of a task enqueued at `enqueued_ns` into `out`.
void MakePayload(int64_t enqueued_ns, google::protobuf::Any* out);

// Returns when `payload` was enqueued and its length, or false if it is not
// a benchmark payload.
bool ReadPayload(const google::protobuf::Any& payload, int64_t* enqueued_ns,
                 uint64_t* length);

// Writes the result a worker sends for a payload of `length` bytes into
// `out`.
void MakeResult(uint64_t length, google::protobuf::Any* out);

// Returns the task with id `index` (as a decimal), enqueued at
// `enqueued_ns` (MonotonicNanos()), packed as a source hands tasks to the
// master (TaskFeeder::Pull). A chunk of tasks shares one reading of the
// clock, as the raw server's batches do: one per task was 1.5% of the
// master process's time.
server::PackedTask MakeTask(uint64_t index, int64_t enqueued_ns);
// Returns the index a MakeTask() id names, or nullopt if it names none.
// By hand: absl::SimpleAtoi's generality cost the benchmark's sink about
// 180 instructions a task, 2% of what the master process runs, which are
// the harness's and not the master's (this saves 119 of them).
std::optional<uint64_t> TaskIndexOf(absl::string_view id);

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_BENCH_TASK_H_
