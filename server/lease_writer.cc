#include "server/lease_writer.h"

#include "google/protobuf/duration.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/slice.h"

namespace distributo::server {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

google::protobuf::Duration ToDuration(absl::Duration duration) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(duration));
}

// The size of field `field` holding a message of `size` bytes.
size_t MessageFieldSize(int field, size_t size) {
  return WireFormatLite::TagSize(field, WireFormatLite::TYPE_MESSAGE) +
         WireFormatLite::LengthDelimitedSize(size);
}

// Writes the tag and length of field `field` holding a message of `size`
// bytes, which the caller writes next.
uint8_t* WriteMessageFieldHeader(int field, size_t size, uint8_t* target) {
  target = WireFormatLite::WriteTagToArray(
      field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, target);
  return CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size),
                                                 target);
}

// Writes field `field` holding `message`, whose size is cached.
template <typename Message>
uint8_t* WriteMessageField(int field, const Message& message, uint8_t* target) {
  target = WriteMessageFieldHeader(field, message.GetCachedSize(), target);
  return message.SerializeWithCachedSizesToArray(target);
}

}  // namespace

void LeasedTasksWriter::Add(const PackedTask& task, uint32_t attempt,
                            uint64_t epoch, absl::Time deadline) {
  v1::Task* out = out_->add_tasks();
  task.CopyTo(out);
  out->set_attempt(attempt);
  out->set_epoch(epoch);
  *out->mutable_lease_deadline() = ToTimestamp(deadline);
}

void LeasedTasksWriter::End(absl::Duration duration) {
  *out_->mutable_lease_duration() = ToDuration(duration);
}

WireLeaseWriter::WireLeaseWriter() { Clear(); }

void WireLeaseWriter::Clear() {
  bytes_.assign(kHeaderRoom, '\0');
  header_start_ = kHeaderRoom;
}

uint8_t* WireLeaseWriter::Extend(size_t size) {
  const size_t start = bytes_.size();
  bytes_.resize(start + size);
  return reinterpret_cast<uint8_t*>(bytes_.data()) + start;
}

void WireLeaseWriter::Add(const PackedTask& task, uint32_t attempt,
                          uint64_t epoch, absl::Time deadline) {
  const google::protobuf::Timestamp stamp = ToTimestamp(deadline);
  const size_t task_size =
      task.WireSize() +
      WireFormatLite::TagSize(v1::Task::kAttemptFieldNumber,
                              WireFormatLite::TYPE_UINT32) +
      WireFormatLite::UInt32Size(attempt) +
      WireFormatLite::TagSize(v1::Task::kEpochFieldNumber,
                              WireFormatLite::TYPE_UINT64) +
      WireFormatLite::UInt64Size(epoch) +
      MessageFieldSize(v1::Task::kLeaseDeadlineFieldNumber,
                       stamp.ByteSizeLong());
  uint8_t* target =
      Extend(MessageFieldSize(v1::LeasedTasks::kTasksFieldNumber, task_size));
  target = WriteMessageFieldHeader(v1::LeasedTasks::kTasksFieldNumber,
                                   task_size, target);
  // The lease's fields follow the task's: a parser merges them.
  target = task.WriteWire(target);
  target = WireFormatLite::WriteUInt32ToArray(v1::Task::kAttemptFieldNumber,
                                              attempt, target);
  target = WireFormatLite::WriteUInt64ToArray(v1::Task::kEpochFieldNumber,
                                              epoch, target);
  WriteMessageField(v1::Task::kLeaseDeadlineFieldNumber, stamp, target);
}

void WireLeaseWriter::End(absl::Duration duration) {
  const google::protobuf::Duration proto = ToDuration(duration);
  uint8_t* target = Extend(MessageFieldSize(
      v1::LeasedTasks::kLeaseDurationFieldNumber, proto.ByteSizeLong()));
  WriteMessageField(v1::LeasedTasks::kLeaseDurationFieldNumber, proto, target);
  // The TaskBatch's tag and the LeasedTasks' length go right before it.
  const size_t leased_size = bytes_.size() - kHeaderRoom;
  header_start_ =
      kHeaderRoom -
      (MessageFieldSize(v1::TaskBatch::kTasksFieldNumber, leased_size) -
       leased_size);
  WriteMessageFieldHeader(
      v1::TaskBatch::kTasksFieldNumber, leased_size,
      reinterpret_cast<uint8_t*>(bytes_.data()) + header_start_);
}

void WireLeaseWriter::WriteTo(grpc::ByteBuffer* bytes) const {
  grpc::Slice slice(bytes_.data() + header_start_,
                    bytes_.size() - header_start_);
  grpc::ByteBuffer batch(&slice, 1);
  bytes->Swap(&batch);
}

}  // namespace distributo::server
