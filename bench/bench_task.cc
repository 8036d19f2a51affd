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

namespace {

// Packs `value` into `out` as PackFrom() would, without building the type
// URL again for every message: the benchmark's producer and workers should
// cost as little as a careful user's would, so that what is measured is the
// server.
template <typename Message>
const std::string& TypeUrlOf() {
  static const std::string* const type_url = new std::string(
      absl::StrCat("type.googleapis.com/", Message::descriptor()->full_name()));
  return *type_url;
}

template <typename Message>
void PackInto(const Message& value, google::protobuf::Any* out) {
  out->set_type_url(TypeUrlOf<Message>());
  value.SerializeToString(out->mutable_value());
}

google::protobuf::BytesValue PayloadOf(int64_t enqueued_ns) {
  google::protobuf::BytesValue value;
  std::string& bytes = *value.mutable_value();
  bytes.assign(kPayloadBytes, 'x');
  std::memcpy(bytes.data(), &enqueued_ns, sizeof(enqueued_ns));
  return value;
}

}  // namespace

void MakePayload(int64_t enqueued_ns, google::protobuf::Any* out) {
  PackInto(PayloadOf(enqueued_ns), out);
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

void MakeResult(uint64_t length, google::protobuf::Any* out) {
  google::protobuf::UInt64Value value;
  value.set_value(length);
  PackInto(value, out);
}

server::PackedTask MakeTask(uint64_t index, int64_t enqueued_ns) {
  const std::string value = PayloadOf(enqueued_ns).SerializeAsString();
  return server::PackedTask(absl::StrCat(index),
                            TypeUrlOf<google::protobuf::BytesValue>(), value);
}

std::optional<uint64_t> TaskIndexOf(absl::string_view id) {
  // 19 digits always fit in 64 bits.
  if (id.empty() || id.size() > 19) return std::nullopt;
  uint64_t index = 0;
  for (const char digit : id) {
    if (digit < '0' || digit > '9') return std::nullopt;
    index = index * 10 + (digit - '0');
  }
  return index;
}

}  // namespace distributo::bench
