#include "server/status_json.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace distributo::server {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

// Adds `key` to `object` and returns the value to fill in.
Value& Field(Struct& object, const std::string& key) {
  return (*object.mutable_fields())[key];
}

std::string TimeText(absl::Time time) {
  return absl::FormatTime(absl::RFC3339_sec, time, absl::UTCTimeZone());
}

Struct Counts(const QueueCounts& c) {
  Struct counts;
  for (const auto& [name, value] :
       {std::pair{"total", c.total}, std::pair{"pending", c.pending},
        std::pair{"leased", c.leased}, std::pair{"backoff", c.backoff},
        std::pair{"done", c.done}, std::pair{"dead", c.dead},
        std::pair{"failures", c.failures}, std::pair{"workers", c.sessions},
        std::pair{"duplicates", c.duplicates},
        std::pair{"lease_expiries", c.lease_expiries},
        std::pair{"in_memory", c.in_memory}}) {
    Field(counts, name).set_number_value(static_cast<double>(value));
  }
  Field(counts, "complete").set_bool_value(c.complete);
  return counts;
}

ListValue Workers(const std::vector<WorkerStatus>& workers) {
  ListValue list;
  for (const WorkerStatus& worker : workers) {
    Struct& row = *list.add_values()->mutable_struct_value();
    Field(row, "name").set_string_value(worker.name);
    Field(row, "address").set_string_value(worker.peer);
    Field(row, "slots").set_number_value(worker.slots);
    Field(row, "in_flight").set_number_value(worker.in_flight);
    Field(row, "done").set_number_value(worker.done);
    Field(row, "failed").set_number_value(worker.failed);
    Field(row, "connected").set_bool_value(worker.connected);
    Field(row, "last_seen").set_string_value(TimeText(worker.last_seen));
  }
  return list;
}

ListValue Failures(const std::vector<FailureRecord>& failures) {
  ListValue list;
  for (const FailureRecord& failure : failures) {
    Struct& row = *list.add_values()->mutable_struct_value();
    Field(row, "time").set_string_value(TimeText(failure.time));
    Field(row, "task_id").set_string_value(failure.task_id);
    Field(row, "worker").set_string_value(failure.worker);
    Field(row, "code").set_string_value(failure.code);
    Field(row, "message").set_string_value(failure.message);
  }
  return list;
}

ListValue Throughput(const std::vector<ThroughputSample>& samples) {
  ListValue list;
  for (const ThroughputSample& sample : samples) {
    Struct& row = *list.add_values()->mutable_struct_value();
    Field(row, "t").set_number_value(absl::ToUnixSeconds(sample.time));
    Field(row, "finished").set_number_value(sample.finished);
  }
  return list;
}

}  // namespace

std::string StatusJson(const MasterStatus& status,
                       const std::vector<ThroughputSample>& throughput) {
  Struct root;
  *Field(root, "counts").mutable_struct_value() = Counts(status.queue.counts);
  *Field(root, "workers").mutable_list_value() = Workers(status.queue.workers);
  *Field(root, "recent_failures").mutable_list_value() =
      Failures(status.queue.recent_failures);
  *Field(root, "dead").mutable_list_value() =
      Failures(status.queue.recent_dead);
  *Field(root, "throughput").mutable_list_value() = Throughput(throughput);
  Field(root, "serving").set_bool_value(status.serving);
  Field(root, "draining").set_bool_value(status.draining);
  Field(root, "durable").set_bool_value(status.durable);
  std::string json;
  if (auto written = google::protobuf::util::MessageToJsonString(root, &json);
      !written.ok()) {
    LOG(ERROR) << "status JSON: " << written.ToString();
    return "{}";
  }
  return json;
}

}  // namespace distributo::server
