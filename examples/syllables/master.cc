// syllables-master: serves the words of a file to syllables-workers, one task
// per line, and writes each count as a JSON line to --results:
//
//   syllables-master --words=/usr/share/dict/words --port=4000
//   {"id":"1","word":"A","syllables":1,"attempts":1}
//
// Exits 0 once every word is counted, 1 if some could not be (each is logged)
// or the results could not be written, 2 if the job could not start.

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "distributo/task_distributor.h"
#include "glog/logging.h"
#include "syllables.pb.h"
#include "text_io.h"

ABSL_FLAG(std::string, words, "/usr/share/dict/words", "One word per line");
ABSL_FLAG(int, port, 4000, "Port to listen on; 0 picks a free one");
ABSL_FLAG(std::string, port_file, "", "If set, gets the port once serving");
ABSL_FLAG(std::string, results, "syllables.jsonl", "Output, overwritten");
ABSL_FLAG(size_t, batch_size, 100, "Most words sent to a worker at once");
ABSL_FLAG(bool, advertise, false,
          "Announce the master on the LAN over mDNS (workers: --master=mdns)");
ABSL_FLAG(std::string, listen, "127.0.0.1",
          "Address to listen on; 0.0.0.0 serves the LAN");
ABSL_FLAG(std::string, cluster, "", "Cluster name advertised with --advertise");
ABSL_FLAG(int, http_port, -1,
          "Serve the status page and /metrics on this port (0: a free one; "
          "-1: none)");

namespace distributo::examples::syllables {
namespace {

using Distributor = TaskDistributor<WordTask, SyllableResult>;

// What the callbacks share, without a lock: only the task source touches
// `words`, and the distributor calls it from one thread; only the handlers
// touch the rest, and it calls them one at a time, the last before Wait()
// returns.
struct Job {
  std::ifstream words;
  std::ofstream results;
  size_t counted = 0;
  size_t dead = 0;
};

// Returns the next non-blank line as a task, nullopt at the end. Reading a
// line per call keeps a huge file out of memory.
std::optional<WordTask> NextWord(std::istream& words) {
  for (std::string line; std::getline(words, line);) {
    if (!IsUtf8(line)) {  // A worker could not even parse the task.
      LOG(WARNING) << "skipping \"" << absl::CHexEscape(line)
                   << "\": not UTF-8";
      continue;
    }
    WordTask task;
    task.set_word(std::string(absl::StripAsciiWhitespace(line)));
    if (!task.word().empty()) return task;
  }
  LOG_IF(ERROR, words.bad()) << "reading --words failed; the job ends here";
  return std::nullopt;
}

void WriteResults(Job& job,
                  std::vector<CompletedTask<WordTask, SyllableResult>> done) {
  for (const auto& word : done) {
    job.results << absl::StrFormat(
                       R"({"id":%s,"word":%s,"syllables":%d,"attempts":%d})",
                       JsonQuote(word.id), JsonQuote(word.task.word()),
                       word.result.syllables(), word.attempts)
                << "\n";
  }
  job.results.flush();  // Whole batches show up as they come.
  job.counted += done.size();
}

void LogDead(Job& job, std::vector<DeadTask<WordTask>> dead) {
  for (const auto& word : dead) {
    LOG(ERROR) << "no count for \"" << word.task.word() << "\" after attempt "
               << word.attempts << ": " << word.code << ": " << word.message;
  }
  job.dead += dead.size();
}

// Serves until every word is counted, writing the port file once listening.
absl::Status Serve(Distributor& distributor, const std::string& port_file) {
  absl::Status status = distributor.Start();
  if (status.ok() && distributor.http_port() >= 0) {
    LOG(INFO) << "status page at http://127.0.0.1:" << distributor.http_port()
              << "/";
  }
  if (status.ok() && !port_file.empty()) {
    status =
        WriteFileAtomically(port_file, absl::StrCat(distributor.port(), "\n"));
  }
  return status.ok() ? distributor.Wait() : status;
}

int Run() {
  Job job;
  job.words.open(absl::GetFlag(FLAGS_words));
  job.results.open(absl::GetFlag(FLAGS_results), std::ios::trunc);
  if (!job.words || !job.results) {
    LOG(ERROR) << "cannot read --words or write --results";
    return 2;
  }
  Distributor::Options options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.port = absl::GetFlag(FLAGS_port);
  options.http_port = absl::GetFlag(FLAGS_http_port);
  options.enable_discovery = absl::GetFlag(FLAGS_advertise);
  options.cluster = absl::GetFlag(FLAGS_cluster);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.next_task = [&job] { return NextWord(job.words); };
  options.handle_results = [&job](auto done) {
    WriteResults(job, std::move(done));
  };
  options.handle_dead = [&job](auto dead) { LogDead(job, std::move(dead)); };
  const absl::Time start = absl::Now();
  auto distributor = Distributor::Create(std::move(options));
  const absl::Status status =
      distributor.ok() ? Serve(**distributor, absl::GetFlag(FLAGS_port_file))
                       : distributor.status();
  if (!status.ok()) {
    LOG(ERROR) << status;
    return 2;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::PrintF("words: %d counted, %d not; %.2f s; %.0f words/s\n", job.counted,
               job.dead, seconds,
               (job.counted + job.dead) / std::max(seconds, 1e-3));
  LOG_IF(ERROR, !job.results.good()) << "writing --results failed";
  return job.dead == 0 && job.results.good() ? 0 : 1;
}

}  // namespace
}  // namespace distributo::examples::syllables

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  return distributo::examples::syllables::Run();
}
