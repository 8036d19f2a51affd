// distributo-bench-worker: the trivial worker of the benchmarks. It answers
// each JSON task with the length of its payload's "p" string, so that the
// time measured is the master's and the transport's, not the work's:
//
//   distributo-bench-worker --master=127.0.0.1:4000 --concurrency=1
//
// Exits 0 when the master says the job is complete.

#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "distributo/worker_client.h"
#include "glog/logging.h"
#include "google/protobuf/struct.pb.h"

ABSL_FLAG(std::string, master, "127.0.0.1:4000", "The master's HOST:PORT");
ABSL_FLAG(int, concurrency, 1, "Tasks processed at once");

namespace distributo::bench {
namespace {

using google::protobuf::Value;

absl::StatusOr<Value> Count(const Value& task) {
  const auto& fields = task.struct_value().fields();
  const auto payload = fields.find("p");
  Value length;
  length.set_number_value(
      payload == fields.end() ? 0 : payload->second.string_value().size());
  return length;
}

int Run() {
  WorkerClient<Value, Value>::Options options;
  options.master = absl::GetFlag(FLAGS_master);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.process_task = Count;
  auto worker = WorkerClient<Value, Value>::Create(std::move(options));
  const absl::Status status = worker.ok() ? (*worker)->Run() : worker.status();
  LOG_IF(ERROR, !status.ok()) << status;
  return status.ok() ? 0 : 1;
}

}  // namespace
}  // namespace distributo::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  return distributo::bench::Run();
}
