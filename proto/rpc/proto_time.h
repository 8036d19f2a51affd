#ifndef DISTRIBUTO_PROTO_RPC_PROTO_TIME_H_
#define DISTRIBUTO_PROTO_RPC_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace distributo {

// Converts absl's times to the well-known protobuf types, to the nanosecond.
inline google::protobuf::Duration ToProtoDuration(absl::Duration duration) {
  return google::protobuf::util::TimeUtil::NanosecondsToDuration(
      absl::ToInt64Nanoseconds(duration));
}
inline google::protobuf::Timestamp ToProtoTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(time));
}

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_PROTO_TIME_H_
