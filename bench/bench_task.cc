#include "bench/bench_task.h"

#include <time.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/wrappers.pb.h"

namespace distributo::bench {

int64_t MonotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

google::protobuf::Any MakePayload(int64_t enqueued_ns) {
  std::string bytes(kPayloadBytes, 'x');
  std::memcpy(bytes.data(), &enqueued_ns, sizeof(enqueued_ns));
  google::protobuf::BytesValue value;
  value.set_value(std::move(bytes));
  google::protobuf::Any payload;
  payload.PackFrom(value);
  return payload;
}

bool ReadPayload(const google::protobuf::Any& payload, int64_t* enqueued_ns,
                 uint64_t* length) {
  google::protobuf::BytesValue value;
  if (!payload.UnpackTo(&value) || value.value().size() < sizeof(int64_t)) {
    return false;
  }
  std::memcpy(enqueued_ns, value.value().data(), sizeof(*enqueued_ns));
  *length = value.value().size();
  return true;
}

google::protobuf::Any MakeResult(uint64_t length) {
  google::protobuf::UInt64Value value;
  value.set_value(length);
  google::protobuf::Any result;
  result.PackFrom(value);
  return result;
}

v1::Task MakeTask(uint64_t index) {
  v1::Task task;
  task.set_id(absl::StrCat(index));
  *task.mutable_payload() = MakePayload(MonotonicNanos());
  return task;
}

}  // namespace distributo::bench
