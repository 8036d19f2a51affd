#include "server/lease_writer.h"

#include <grpc/slice.h>

#include <cstring>
#include <string>
#include <utility>

#include "grpcpp/support/slice.h"
#include "rpc/proto_time.h"
#include "server/wire_fields.h"

namespace distributo::server {

using wire_fields::LengthDelimitedSize;
using wire_fields::WireFormatLite;
using wire_fields::WriteLengthDelimitedHeader;
using wire_fields::WriteMessageField;

void LeasedTasksWriter::Add(const PackedTask& task, uint32_t attempt,
                            uint64_t epoch, absl::Time deadline) {
  v1::Task* out = out_->add_tasks();
  task.CopyTo(out);
  out->set_attempt(attempt);
  out->set_epoch(epoch);
  *out->mutable_lease_deadline() = ToProtoTimestamp(deadline);
}

void LeasedTasksWriter::End(absl::Duration duration) {
  *out_->mutable_lease_duration() = ToProtoDuration(duration);
}

WireLeaseWriter::WireLeaseWriter() { Clear(); }

void WireLeaseWriter::Clear() {
  // About the size of the last batch: the next is likely alike.
  bytes_.reserve(reserve_);
  bytes_.assign(kHeaderRoom, '\0');
  header_start_ = kHeaderRoom;
}

uint8_t* WireLeaseWriter::Extend(size_t size) {
  const size_t start = bytes_.size();
  bytes_.resize(start + size);
  return reinterpret_cast<uint8_t*>(bytes_.data()) + start;
}

absl::string_view WireLeaseWriter::DeadlineField(absl::Time deadline) {
  if (deadline != encoded_deadline_) {
    const google::protobuf::Timestamp stamp = ToProtoTimestamp(deadline);
    deadline_field_.resize(LengthDelimitedSize(
        v1::Task::kLeaseDeadlineFieldNumber, stamp.ByteSizeLong()));
    WriteMessageField(v1::Task::kLeaseDeadlineFieldNumber, stamp,
                      reinterpret_cast<uint8_t*>(deadline_field_.data()));
    encoded_deadline_ = deadline;
  }
  return deadline_field_;
}

void WireLeaseWriter::Add(const PackedTask& task, uint32_t attempt,
                          uint64_t epoch, absl::Time deadline) {
  const absl::string_view deadline_field = DeadlineField(deadline);
  const size_t task_size =
      task.WireSize() +
      WireFormatLite::TagSize(v1::Task::kAttemptFieldNumber,
                              WireFormatLite::TYPE_UINT32) +
      WireFormatLite::UInt32Size(attempt) +
      WireFormatLite::TagSize(v1::Task::kEpochFieldNumber,
                              WireFormatLite::TYPE_UINT64) +
      WireFormatLite::UInt64Size(epoch) + deadline_field.size();
  uint8_t* target = Extend(
      LengthDelimitedSize(v1::LeasedTasks::kTasksFieldNumber, task_size));
  target = WriteLengthDelimitedHeader(v1::LeasedTasks::kTasksFieldNumber,
                                      task_size, target);
  // The lease's fields follow the task's: a parser merges them.
  target = task.WriteWire(target);
  target = WireFormatLite::WriteUInt32ToArray(v1::Task::kAttemptFieldNumber,
                                              attempt, target);
  target = WireFormatLite::WriteUInt64ToArray(v1::Task::kEpochFieldNumber,
                                              epoch, target);
  std::memcpy(target, deadline_field.data(), deadline_field.size());
}

void WireLeaseWriter::End(absl::Duration duration) {
  const google::protobuf::Duration proto = ToProtoDuration(duration);
  uint8_t* target = Extend(LengthDelimitedSize(
      v1::LeasedTasks::kLeaseDurationFieldNumber, proto.ByteSizeLong()));
  WriteMessageField(v1::LeasedTasks::kLeaseDurationFieldNumber, proto, target);
  // The TaskBatch's tag and the LeasedTasks' length go right before it.
  const size_t leased_size = bytes_.size() - kHeaderRoom;
  header_start_ =
      kHeaderRoom -
      (LengthDelimitedSize(v1::TaskBatch::kTasksFieldNumber, leased_size) -
       leased_size);
  WriteLengthDelimitedHeader(
      v1::TaskBatch::kTasksFieldNumber, leased_size,
      reinterpret_cast<uint8_t*>(bytes_.data()) + header_start_);
}

void WireLeaseWriter::MoveTo(grpc::ByteBuffer* bytes) {
  // The slice takes the buffer as it is: no copy, and no stream keeps the
  // memory of its largest batch for good.
  auto* buffer = new std::string(std::move(bytes_));
  reserve_ = buffer->size();
  grpc::Slice slice(
      grpc_slice_new_with_user_data(
          buffer->data() + header_start_, buffer->size() - header_start_,
          [](void* owned) { delete static_cast<std::string*>(owned); }, buffer),
      grpc::Slice::STEAL_REF);
  grpc::ByteBuffer batch(&slice, 1);
  bytes->Swap(&batch);
  Clear();
}

}  // namespace distributo::server
