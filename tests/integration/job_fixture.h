#ifndef DISTRIBUTO_TESTS_INTEGRATION_JOB_FIXTURE_H_
#define DISTRIBUTO_TESTS_INTEGRATION_JOB_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/child_process.h"

namespace distributo::testing {

// Whether this build runs under AddressSanitizer, which makes the processes
// several times slower and larger: tests scale their loads and bounds by it.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
inline constexpr bool kUnderAddressSanitizer = __has_feature(address_sanitizer);
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif

// What a results file says about a job's tasks, counted as
// notes/reliability.md asks.
struct ResultsLedger {
  absl::flat_hash_map<std::string, int> times_written;
  absl::flat_hash_map<std::string, google::protobuf::Value> lines;  // by id
  int lost = 0;        // expected, but no line
  int twice = 0;       // more than one line
  int unexpected = 0;  // a line for an id never enqueued
  int torn = 0;        // a line that is not a JSON object with an id
  int released = 0;    // lines of tasks leased more than once
};

// Makes an empty directory for the running test, named after it.
std::string FreshTestDir();

// Reads the results file at `path` against the ids a job enqueued.
ResultsLedger ReadResultsLedger(const std::string& path,
                                const std::vector<std::string>& expected_ids);

// Expects nothing lost, written twice, torn or unexpected.
void ExpectEachResultOnce(const ResultsLedger& ledger);

// A job of real processes in a directory: a distributo-master on 127.0.0.1
// and distributo-worker processes running tests' task_script.py, which
// squares {"n": i} into {"n": i, "square": i*i}. A test may run several.
class TestJob {
 public:
  static constexpr absl::Duration kJobTimeout = absl::Seconds(120);

  // `dir` must exist.
  explicit TestJob(std::string dir = "") : dir_(std::move(dir)) {}

  std::string Path(const std::string& name) const;

  // Writes tasks {"n": i, ...extra} with ids "t<i>"; `extra(i)` adds fields.
  void WriteTasks(int count,
                  const std::function<std::string(int)>& extra = nullptr);

  // Starts the master on tasks.jsonl and results.jsonl and waits until it
  // serves. The first start picks a free port; later ones reuse it, so that
  // workers find a restarted master where they left it.
  void StartMaster(std::vector<std::string> extra_flags = {});

  // Starts a worker pointed at the master's port; a --master among
  // `extra_flags` wins, as the last of a flag does. `prefix` runs it, e.g.
  // {"ip", "netns", "exec", "ns"}.
  ChildProcess* StartWorker(const std::string& mode, int concurrency,
                            std::vector<std::string> extra_flags = {},
                            std::vector<std::string> prefix = {});

  // Waits for the master to exit; returns its exit code (-1 on timeout).
  int WaitForMaster();

  size_t ResultLines();

  // Returns how many outcomes the workers were told were accepted but the
  // `journal` does not hold as finished: an ack must mean "on disk".
  // Only once the master is gone: it holds its journal locked. The workers
  // log their acks with GLOG_vmodule=outcome_book=2.
  int AckedButMissing(const std::string& journal);

  // Returns the outcomes the workers' logs say were accepted: the distinct
  // ids of each worker, summed.
  size_t AckedOutcomes();

  // Runs `distributo ARGS --master=127.0.0.1:<port>` to its end; returns its
  // exit code and leaves its output in `*output`.
  int Cli(const std::vector<std::string>& args, std::string* output);

  ResultsLedger ReadLedger() {
    return ReadResultsLedger(Path("results.jsonl"), expected_ids_);
  }

  // Checks nothing was lost, written twice, torn or unexpected, and every
  // result line is {"n": i, "square": i*i} for its id "t<i>".
  void ExpectEveryResultOnceAndCorrect(const ResultsLedger& ledger);

  int port() const { return port_; }
  ChildProcess& master() { return *master_; }

 protected:
  std::string dir_;
  int port_ = 0;
  std::vector<std::string> expected_ids_;
  std::unique_ptr<ChildProcess> master_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;

 private:
  int master_starts_ = 0;
  int cli_runs_ = 0;
};

// A test with one TestJob in a fresh directory of its own.
class JobFixture : public ::testing::Test, public TestJob {
 protected:
  void SetUp() override;
};

// Returns the first column of what `sql` selects from the SQLite file at
// `path`; nothing if it cannot be opened or read.
std::vector<std::string> QuerySqlite(const std::string& path,
                                     const std::string& sql);

// Returns the answer of PRAGMA integrity_check on the SQLite file at `path`.
std::string IntegrityCheck(const std::string& path);

// Returns the ids of the outcomes a distributo-worker's log says the master
// accepted; the worker logs them with GLOG_vmodule=outcome_book=2.
absl::flat_hash_set<std::string> AckedIds(const std::string& worker_log);

// Returns how many outcomes a distributo-worker's log says the master
// refused (duplicates, stale), from its last summary line; -1 if none.
int RefusedOutcomes(const std::string& worker_log);

// Waits up to 30 s until `text` is in `process`'s log twice: it keeps
// retrying rather than giving up or crashing. Returns whether it is.
bool RetriedWith(const ChildProcess& process, const std::string& text);

// Returns a number field of a JSON object.
double Field(const google::protobuf::Value& object, const std::string& name);

}  // namespace distributo::testing

#endif  // DISTRIBUTO_TESTS_INTEGRATION_JOB_FIXTURE_H_
