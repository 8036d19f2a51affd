// syllables-worker: counts the syllables of the words a syllables-master
// leases to it, until the master says the job is complete:
//
//   syllables-worker --master=127.0.0.1:4000 --concurrency=2
//
// Exits 0 when the job is complete, 1 on an error it cannot get past.

#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "distributo/worker_client.h"
#include "glog/logging.h"
#include "syllable_counter.h"
#include "syllables.pb.h"

ABSL_FLAG(std::string, master, "127.0.0.1:4000",
          "The master: HOST:PORT, dns-sd:SERVICE.DOMAIN, srv:NAME or mdns");
ABSL_FLAG(std::string, cluster, "",
          "With discovery, only masters advertising this cluster");
ABSL_FLAG(int, concurrency, 1, "Words counted at once, each on a thread");

namespace distributo::examples::syllables {
namespace {

// Called on up to --concurrency threads at once; CountSyllables is pure.
absl::StatusOr<SyllableResult> Count(const WordTask& task) {
  // No retry can fix an empty word: InvalidArgument makes it dead at once.
  if (task.word().empty()) return absl::InvalidArgumentError("empty word");
  SyllableResult result;
  result.set_word(task.word());
  result.set_syllables(CountSyllables(task.word()));
  return result;
}

int Run() {
  WorkerClient<WordTask, SyllableResult>::Options options;
  options.master = absl::GetFlag(FLAGS_master);
  options.cluster = absl::GetFlag(FLAGS_cluster);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.process_task = Count;
  auto worker =
      WorkerClient<WordTask, SyllableResult>::Create(std::move(options));
  const absl::Status status = worker.ok() ? (*worker)->Run() : worker.status();
  LOG_IF(ERROR, !status.ok()) << status;
  return status.ok() ? 0 : 1;
}

}  // namespace
}  // namespace distributo::examples::syllables

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  return distributo::examples::syllables::Run();
}
