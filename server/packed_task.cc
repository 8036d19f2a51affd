#include "server/packed_task.h"

#include <cstring>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "server/wire_fields.h"

namespace distributo::server {
namespace {

// Beyond this many distinct type URLs, a task keeps its own copy: a client
// sending a new type with every task must not grow a table never freed.
constexpr size_t kMaxTypeUrls = 4096;

ABSL_CONST_INIT absl::Mutex type_urls_mu(absl::kConstInit);
// Node-based, so that the strings never move; never freed, so that every
// PackedTask may point into it for the life of the process.
absl::node_hash_set<std::string>* type_urls ABSL_GUARDED_BY(type_urls_mu) =
    nullptr;

// Returns the process's one copy of `url`, or nullptr if the table is full.
const std::string* InternTypeUrl(absl::string_view url) {
  // Tasks come in runs of one type: most calls end here, with no lock.
  thread_local const std::string* last = nullptr;
  if (last != nullptr && *last == url) return last;
  absl::MutexLock lock(&type_urls_mu);
  if (type_urls == nullptr) type_urls = new absl::node_hash_set<std::string>();
  auto it = type_urls->find(url);
  if (it == type_urls->end()) {
    if (type_urls->size() >= kMaxTypeUrls) return nullptr;
    it = type_urls->emplace(url).first;
  }
  last = &*it;
  return last;
}

}  // namespace

PackedTask::PackedTask(v1::Task&& task) {
  task.clear_attempt();
  task.clear_epoch();
  task.clear_lease_deadline();
  type_url_ =
      task.has_payload() ? InternTypeUrl(task.payload().type_url()) : nullptr;
  SetBytes(task.id(),
           type_url_ != nullptr ? task.payload().value() : absl::string_view());
  task.clear_id();
  if (type_url_ != nullptr) task.clear_payload();
  if (task.ByteSizeLong() > 0) {
    rest_ = std::make_unique<v1::Task>(std::move(task));
  }
}

PackedTask::PackedTask(absl::string_view id, absl::string_view type_url,
                       absl::string_view value)
    : type_url_(InternTypeUrl(type_url)) {
  if (type_url_ != nullptr) {
    SetBytes(id, value);
    return;
  }
  // Past the interning limit: kept as the v1::Task constructor keeps it.
  v1::Task task;
  task.set_id(id.data(), id.size());
  task.mutable_payload()->set_type_url(type_url.data(), type_url.size());
  task.mutable_payload()->set_value(value.data(), value.size());
  *this = PackedTask(std::move(task));
}

PackedTask::PackedTask(const PackedTask& other) { *this = other; }

PackedTask::PackedTask(PackedTask&& other) noexcept {
  *this = std::move(other);
}

PackedTask& PackedTask::operator=(PackedTask&& other) noexcept {
  bytes_ = std::move(other.bytes_);
  id_size_ = std::exchange(other.id_size_, 0);
  value_size_ = std::exchange(other.value_size_, 0);
  type_url_ = std::exchange(other.type_url_, nullptr);
  rest_ = std::move(other.rest_);
  return *this;
}

PackedTask& PackedTask::operator=(const PackedTask& other) {
  if (this == &other) return *this;
  SetBytes(other.id(), other.type_url_ != nullptr ? other.payload_value()
                                                  : absl::string_view());
  type_url_ = other.type_url_;
  rest_ = other.rest_ != nullptr ? std::make_unique<v1::Task>(*other.rest_)
                                 : nullptr;
  return *this;
}

void PackedTask::SetBytes(absl::string_view id, absl::string_view value) {
  id_size_ = id.size();
  value_size_ = value.size();
  // Uninitialised: every byte is written below.
  bytes_.reset(new char[id.size() + value.size()]);
  if (!id.empty()) std::memcpy(bytes_.get(), id.data(), id.size());
  if (!value.empty()) {
    std::memcpy(bytes_.get() + id.size(), value.data(), value.size());
  }
}

absl::string_view PackedTask::type_url() const {
  if (type_url_ != nullptr) return *type_url_;
  return rest_ != nullptr ? rest_->payload().type_url() : absl::string_view();
}

absl::string_view PackedTask::payload_value() const {
  if (type_url_ != nullptr) return {bytes_.get() + id_size_, value_size_};
  return rest_ != nullptr ? rest_->payload().value() : absl::string_view();
}

void PackedTask::CopyTo(v1::Task* out) const {
  if (rest_ != nullptr) *out = *rest_;
  out->set_id(bytes_.get(), id_size_);
  if (type_url_ != nullptr) {
    google::protobuf::Any* payload = out->mutable_payload();
    payload->set_type_url(*type_url_);
    payload->set_value(bytes_.get() + id_size_, value_size_);
  }
}

using wire_fields::BytesFieldSize;
using wire_fields::LengthDelimitedSize;
using wire_fields::WriteBytesField;
using wire_fields::WriteLengthDelimitedHeader;

size_t PackedTask::PackedPayloadSize() const {
  return BytesFieldSize(google::protobuf::Any::kTypeUrlFieldNumber,
                        *type_url_) +
         BytesFieldSize(google::protobuf::Any::kValueFieldNumber,
                        payload_value());
}

size_t PackedTask::WireSize() const {
  size_t size = BytesFieldSize(v1::Task::kIdFieldNumber, id());
  if (type_url_ != nullptr) {
    size +=
        LengthDelimitedSize(v1::Task::kPayloadFieldNumber, PackedPayloadSize());
  }
  if (rest_ != nullptr) size += rest_->ByteSizeLong();
  return size;
}

uint8_t* PackedTask::WriteWire(uint8_t* target) const {
  // Fields may come in any order: a parser merges them all.
  target = WriteBytesField(v1::Task::kIdFieldNumber, id(), target);
  if (type_url_ != nullptr) {
    // A payload is set even when both its fields are empty.
    target = WriteLengthDelimitedHeader(v1::Task::kPayloadFieldNumber,
                                        PackedPayloadSize(), target);
    target = WriteBytesField(google::protobuf::Any::kTypeUrlFieldNumber,
                             *type_url_, target);
    target = WriteBytesField(google::protobuf::Any::kValueFieldNumber,
                             payload_value(), target);
  }
  if (rest_ != nullptr) target = rest_->SerializeWithCachedSizesToArray(target);
  return target;
}

void PackedTask::SerializeTo(std::string* out) const {
  out->resize(WireSize());
  WriteWire(reinterpret_cast<uint8_t*>(out->data()));
}

v1::Task PackedTask::ToTask() const {
  v1::Task task;
  CopyTo(&task);
  return task;
}

std::vector<PackedTask> PackTasks(std::vector<v1::Task>&& tasks) {
  std::vector<PackedTask> packed;
  packed.reserve(tasks.size());
  for (v1::Task& task : tasks) packed.emplace_back(std::move(task));
  tasks.clear();
  return packed;
}

}  // namespace distributo::server
