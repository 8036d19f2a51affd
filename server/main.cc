// distributo-master: serves a queue of tasks to distributo.v1 workers.
//
// Job mode (--tasks=FILE or -): reads every task, serves them, writes each
// result as a JSON line, and exits when all are done (0) or some ended dead
// (1). Service mode (no --tasks): serves until stopped.

#include <string.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "discovery/master_advertisement.h"
#include "glog/logging.h"
#include "rpc/atomic_file.h"
#include "rpc/logging.h"
#include "rpc/mutex_mode.h"
#include "rpc/schema_flags.h"
#include "rpc/stop_signals.h"
#include "rpc/tls_credentials.h"
#include "server/jsonl_result_sink.h"
#include "server/master.h"
#include "server/packed_task.h"
#include "server/progress_reporter.h"
#include "server/sqlite_journal.h"
#include "server/status_server.h"
#include "server/task_reader.h"

ABSL_FLAG(std::string, listen, "127.0.0.1",
          "Address to listen on; 0.0.0.0 serves the LAN");
ABSL_FLAG(int, port, 4000, "Port to listen on; 0 picks a free one");
ABSL_FLAG(std::string, port_file, "",
          "If set, the chosen port is written to this file once serving");
ABSL_FLAG(std::string, advertise, "",
          "Advertise this master on the LAN over mDNS (_distributo._tcp), so "
          "that workers started with --master=mdns find it. --advertise "
          "alone uses the instance name distributo-HOST-PORT; "
          "--advertise=NAME picks one.");
ABSL_FLAG(std::string, cluster, "",
          "Cluster name advertised with --advertise; workers started with "
          "--cluster take only masters of their cluster.");
ABSL_FLAG(int, http_port, -1,
          "Serve /metrics (Prometheus), /healthz, /readyz and a live status "
          "page at / on this port of --http_listen's address; 0 picks a free "
          "one; -1 (the default): no HTTP port.");
ABSL_FLAG(std::string, http_listen, "127.0.0.1",
          "Address of the HTTP port: HTTPS with --tls_cert, and /metrics and "
          "/api/status take an operator's token once there are tokens");
ABSL_FLAG(absl::Duration, linger, absl::ZeroDuration(),
          "After the job is complete, keep the HTTP port up this long, so "
          "that its end state can be looked at.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate (chain) of the master: serve TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA certificate that signs workers' certificates: check the "
          "certificates workers present");
ABSL_FLAG(bool, require_client_cert, false,
          "Mutual TLS: refuse workers without a certificate signed by "
          "--tls_ca");
ABSL_FLAG(bool, insecure, false,
          "Allow plaintext on a --listen address other hosts can reach");
ABSL_FLAG(std::string, tokens, "",
          "File of \"TOKEN NAME\" lines: every worker must send one of these "
          "tokens (--token), and is known by its name");
ABSL_FLAG(std::string, operator_tokens, "",
          "File of \"TOKEN NAME\" lines for operators: once there are any "
          "tokens, only these open the admin service (distributo status, "
          "enqueue, cancel, drain)");
ABSL_FLAG(int, max_workers, 10'000,
          "Workers served at once; more are told RESOURCE_EXHAUSTED and retry "
          "later (0: no cap)");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "Close connections that have not finished their TLS handshake by "
          "then");
ABSL_FLAG(std::string, tasks, "",
          "JSONL file of tasks ({\"id\", \"payload\", \"labels\"}), or - for "
          "stdin; runs a job that ends when every task is finished. Empty: "
          "service mode");
ABSL_FLAG(std::string, results, "-",
          "Where result JSON lines are appended; - for stdout");
ABSL_FLAG(std::string, journal, "",
          "SQLite journal that lets the job survive a crash of the master: "
          "restarting on it resumes the job. Empty: <results>.journal, or "
          "<tasks>.journal when results go to stdout (distributo.journal "
          "with tasks on stdin too). none: keep everything in memory (a "
          "master that dies loses its queue)");
ABSL_FLAG(int, batch_size, 100, "Most tasks leased in one batch");
ABSL_FLAG(int64_t, max_unhandled_results, 20'000,
          "Finished tasks waiting for the results file past which no task "
          "is leased, so that a slow disk slows the workers, not memory");
ABSL_FLAG(absl::Duration, lease_timeout, absl::Seconds(60),
          "Lease length; workers extend it while a task runs");
ABSL_FLAG(absl::Duration, requeue_grace, absl::Seconds(5),
          "How long a disconnected worker keeps its leases");
ABSL_FLAG(int, max_attempts, 5, "Failed attempts before a task is dead");
ABSL_FLAG(int, max_worker_deaths, 3,
          "Leases lost to dead or hung workers before a task is dead (poison)");
ABSL_FLAG(absl::Duration, retry_backoff, absl::Seconds(1),
          "First retry delay after a failure; doubles per failure");
ABSL_FLAG(absl::Duration, max_retry_backoff, absl::Seconds(60),
          "Longest retry delay");
ABSL_FLAG(absl::Duration, reaper_interval, absl::Seconds(1),
          "How often expired leases and disconnected workers are checked");
ABSL_FLAG(absl::Duration, progress_interval, absl::Seconds(5),
          "How often a progress line is printed when stderr is not a terminal");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(30),
          "After SIGTERM or SIGINT: how long workers get to hand in the tasks "
          "they hold before the master exits (a second signal exits at once)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(5),
          "How long workers get to hear that the job is complete");

namespace distributo::server {
namespace {

// How often the main thread checks for a stop signal.
constexpr absl::Duration kStopCheck = absl::Milliseconds(100);

// The first stop signal received, 0 for none. The signal thread writes it
// and may outlive everything else, hence a global.
std::atomic<int> stop_signal{0};

// Returns `path` made absolute, or `stdio` for "-", to name the job.
std::string JobPart(const std::string& path, const char* stdio) {
  if (path == "-") return stdio;
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

// Returns a fingerprint of the tasks that stays the same across runs (FNV-1a
// over their bytes): tasks from stdin have no path to tell two jobs apart.
std::string Fingerprint(const std::vector<v1::Task>& tasks) {
  uint64_t hash = 14695981039346656037u;
  std::string bytes;
  for (const v1::Task& task : tasks) {
    // Field by field: a serialized map (labels) has no stable order.
    for (const std::string* part :
         {&task.id(), &task.payload().type_url(), &task.payload().value()}) {
      for (const char c : *part) {
        hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211u;
      }
      hash = (hash ^ 0xff) * 1099511628211u;  // ends the part
    }
  }
  return absl::StrFormat("%016x", hash);
}

// Names the job for its journal: where its tasks come from and its results
// go, so that another job never resumes from this one's journal.
std::string JobName(const std::vector<v1::Task>& stdin_tasks,
                    const PayloadSchema* schema) {
  const std::string path = absl::GetFlag(FLAGS_tasks);
  const std::string source =
      path.empty()  ? "(service)"
      : path == "-" ? absl::StrCat("stdin ", stdin_tasks.size(), " tasks ",
                                   Fingerprint(stdin_tasks))
                    : JobPart(path, "stdin");
  std::string name =
      absl::StrCat("tasks ", source, ", results ",
                   JobPart(absl::GetFlag(FLAGS_results), "stdout"));
  // Payloads journaled as one type are not to be read as another.
  if (schema != nullptr) {
    absl::StrAppend(&name, ", types ", schema->task_type_url(), " -> ",
                    schema->result_type_url());
  }
  return name;
}

// Returns the security flags' part of the options: TLS files, --insecure
// and the tokens file's tokens.
absl::Status SecurityFromFlags(MasterOptions& options) {
  options.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key = absl::GetFlag(FLAGS_tls_key);
  options.tls.ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls.require_client_cert = absl::GetFlag(FLAGS_require_client_cert);
  LOG_IF(WARNING, !options.tls.ca.empty() && !options.tls.require_client_cert)
      << "--tls_ca without --require_client_cert checks the certificates "
         "workers present but lets in workers without one";
  options.insecure = absl::GetFlag(FLAGS_insecure);
  options.max_workers =
      static_cast<size_t>(std::max(absl::GetFlag(FLAGS_max_workers), 0));
  options.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  for (const auto& [flag, path, tokens] :
       {std::tuple{"--tokens", absl::GetFlag(FLAGS_tokens), &options.tokens},
        std::tuple{"--operator_tokens", absl::GetFlag(FLAGS_operator_tokens),
                   &options.operator_tokens}}) {
    if (path.empty()) continue;
    absl::StatusOr<WorkerTokens> read = ReadTokens(path, flag);
    if (!read.ok()) return read.status();
    *tokens = *std::move(read);
  }
  return absl::OkStatus();
}

absl::StatusOr<MasterOptions> OptionsFromFlags(
    const std::string& job, std::shared_ptr<const PayloadSchema> schema) {
  MasterOptions options;
  options.job = job;
  if (schema != nullptr) {
    options.queue.check_result = [schema](const google::protobuf::Any& result) {
      return schema->CheckResult(result);
    };
  }
  options.schema = std::move(schema);
  // A service master (no --tasks) is fed by the admin API.
  options.admin_enqueue = absl::GetFlag(FLAGS_tasks).empty();
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.port = absl::GetFlag(FLAGS_port);
  if (absl::Status status = SecurityFromFlags(options); !status.ok()) {
    return status;
  }
  options.reaper_interval = absl::GetFlag(FLAGS_reaper_interval);
  QueueOptions& queue = options.queue;
  queue.max_batch_tasks = std::max(absl::GetFlag(FLAGS_batch_size), 0);
  queue.max_unhandled = static_cast<size_t>(
      std::max<int64_t>(absl::GetFlag(FLAGS_max_unhandled_results), 0));
  queue.lease_duration = absl::GetFlag(FLAGS_lease_timeout);
  queue.requeue_grace = absl::GetFlag(FLAGS_requeue_grace);
  queue.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  queue.max_worker_deaths = absl::GetFlag(FLAGS_max_worker_deaths);
  queue.retry_backoff = absl::GetFlag(FLAGS_retry_backoff);
  queue.max_retry_backoff = absl::GetFlag(FLAGS_max_retry_backoff);
  if (absl::Status status = Master::Validate(options); !status.ok()) {
    return status;
  }
  return options;
}

// The job's tasks, read before anything starts: a bad line refuses the job.
// A regular file is checked whole, then read again chunk by chunk as it is
// enqueued; stdin and pipes, which cannot be read twice, are held in memory.
class TaskSource {
 public:
  static absl::StatusOr<TaskSource> Open(const std::string& path,
                                         const TaskLimits& limits) {
    TaskSource source;
    if (path.empty()) return source;
    std::error_code error;
    if (path != "-" && std::filesystem::is_regular_file(path, error)) {
      auto file = TaskFile::Open(path, limits);
      if (!file.ok()) return file.status();
      source.file_ = *std::move(file);
      return source;
    }
    std::ifstream pipe;
    if (path != "-") {
      pipe.open(path);
      if (!pipe) {
        return absl::NotFoundError(
            absl::StrCat("cannot open tasks file ", path));
      }
    }
    auto tasks = ReadTasks(path == "-" ? std::cin : pipe,
                           path == "-" ? "stdin" : path, limits);
    if (!tasks.ok()) return tasks.status();
    source.held_ = *std::move(tasks);
    return source;
  }

  // The tasks read from stdin or a pipe; empty for a regular file.
  const std::vector<v1::Task>& held() const { return held_; }

  // Returns the next `max_tasks` tasks at most; none at the end.
  absl::StatusOr<std::vector<v1::Task>> Read(size_t max_tasks) {
    if (file_ != nullptr) return file_->Read(max_tasks);
    const size_t end = std::min(held_.size(), next_ + max_tasks);
    std::vector<v1::Task> tasks(std::make_move_iterator(held_.begin() + next_),
                                std::make_move_iterator(held_.begin() + end));
    next_ = end;
    return tasks;
  }

 private:
  std::unique_ptr<TaskFile> file_;
  std::vector<v1::Task> held_;
  size_t next_ = 0;
};

void PrintSummary(const QueueCounts& counts, uint64_t finished_before,
                  absl::Duration elapsed, const std::string& results) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  struct rusage usage = {};
  getrusage(RUSAGE_SELF, &usage);
  absl::FPrintF(stderr,
                "Job complete: %d tasks, %d done, %d dead, %d failed attempts "
                "in %.1f s (%.0f tasks/s); peak RSS %d MiB. Results: %s\n",
                counts.total, counts.done, counts.dead, counts.failures,
                seconds, FinishedPerSecond(counts, finished_before, elapsed),
                usage.ru_maxrss / 1024, results == "-" ? "stdout" : results);
}

// Prints `status` as the reason the master cannot start; returns exit code 2.
int CannotStart(const absl::Status& status) {
  std::cerr << "distributo-master: " << status.message() << "\n";
  return 2;
}

struct OpenedJournal {
  std::unique_ptr<Journal> journal;
  std::string path;  // empty for none
};

// Opens the journal --journal names; says so on stderr if it is none.
// Returns where the journal goes without --journal: beside the results, or
// beside the tasks when results go to standard output.
std::string DefaultJournal(const std::string& tasks_path,
                           const std::string& results_path) {
  if (results_path != "-") return absl::StrCat(results_path, ".journal");
  if (!tasks_path.empty() && tasks_path != "-") {
    return absl::StrCat(tasks_path, ".journal");
  }
  return "distributo.journal";
}

absl::StatusOr<OpenedJournal> OpenJournal(const std::string& tasks_path,
                                          const std::string& results_path) {
  std::string path = absl::GetFlag(FLAGS_journal);
  if (path == "none") {
    std::cerr << "distributo-master: no journal (--journal=none): the queue "
                 "lives in memory and a master that dies loses it\n";
    return OpenedJournal{std::make_unique<InMemoryJournal>(), ""};
  }
  if (path.empty()) path = DefaultJournal(tasks_path, results_path);
  auto journal = SqliteJournal::Open(path);
  if (!journal.ok()) return journal.status();
  return OpenedJournal{*std::move(journal), path};
}

// Says what the master found in its journal.
void PrintRecovery(const Recovery& recovery, const std::string& journal) {
  if (!recovery.resumed) {
    if (!journal.empty()) {
      std::cerr << "distributo-master: journal " << journal << " (new)\n";
    }
    return;
  }
  const QueueCounts& counts = recovery.counts;
  absl::FPrintF(stderr,
                "distributo-master: resuming the job in journal %s (start "
                "%d): %d of %d tasks finished (%d done, %d dead); %d results "
                "handed to the sink again\n",
                journal, recovery.generation, counts.done + counts.dead,
                counts.total, counts.done, counts.dead, recovery.redelivered);
}

// Enqueues the job's tasks, then writes the port file. Returns the exit code
// if the master cannot go on.
std::optional<int> EnqueueAndAnnounce(Master& master, TaskSource& tasks,
                                      bool job_mode) {
  size_t read = 0;
  size_t added = 0;
  while (true) {
    // A chunk per journal transaction; the journal pages them back in.
    absl::StatusOr<std::vector<v1::Task>> chunk = tasks.Read(10'000);
    if (!chunk.ok()) return CannotStart(chunk.status());
    if (chunk->empty()) break;
    read += chunk->size();
    std::vector<PackedTask> packed = PackTasks(*std::move(chunk));
    absl::StatusOr<size_t> new_ones = master.Enqueue(&packed);
    if (!new_ones.ok()) return CannotStart(new_ones.status());
    added += *new_ones;
  }
  if (master.recovery().resumed && read > 0) {
    absl::FPrintF(stderr,
                  "distributo-master: %d of the %d tasks read were already "
                  "in the journal\n",
                  read - added, read);
  }
  if (job_mode) master.queue().CloseSource();
  absl::FPrintF(stderr, "distributo-master listening on %s:%d (%s, %d tasks)\n",
                absl::GetFlag(FLAGS_listen), master.port(),
                job_mode ? "job mode" : "service mode",
                master.queue().Counts().total);
  if (const std::string path = absl::GetFlag(FLAGS_port_file); !path.empty()) {
    if (absl::Status status =
            WriteFileAtomically(path, absl::StrCat(master.port(), "\n"));
        !status.ok()) {
      return CannotStart(status);
    }
  }
  return std::nullopt;
}

// Waits until the job is complete, or a stop signal came and the workers
// have handed in what they held (or --drain_timeout passed). Returns whether
// the job is complete.
bool WaitForTheEnd(Master& master) {
  std::optional<absl::Time> drain_deadline;
  while (!master.queue().WaitForCompletion(kStopCheck)) {
    const int signal = stop_signal.load();
    // A drain comes from a signal or from the admin API.
    if (signal == 0 && !master.draining()) continue;
    const QueueCounts counts = master.queue().Counts();
    if (!drain_deadline.has_value()) {
      const absl::Duration timeout = absl::GetFlag(FLAGS_drain_timeout);
      drain_deadline = absl::Now() + timeout;
      master.Drain();
      LOG(INFO) << (signal != 0 ? absl::StrCat("received ", strsignal(signal))
                                : std::string("drain requested"))
                << "; draining: no new leases, waiting up to " << timeout
                << " for the " << counts.leased
                << " leased tasks (a signal exits at once)";
    }
    if ((counts.leased == 0 && counts.unhandled == 0) ||
        absl::Now() >= *drain_deadline) {
      return false;
    }
  }
  return true;
}

void PrintDrained(const QueueCounts& counts, bool durable) {
  absl::FPrintF(stderr,
                "Drained: %d of %d tasks finished (%d done, %d dead), %d "
                "still leased, %d waiting. %s\n",
                counts.done + counts.dead, counts.total, counts.done,
                counts.dead, counts.leased, counts.pending + counts.backoff,
                durable ? "Start again with the same flags to resume."
                        : "Without a journal, the rest is lost.");
}

// Starts the mDNS responder if --advertise asks for one. Returns null when
// not advertising.
absl::StatusOr<std::unique_ptr<discovery::MdnsResponder>> Advertise(int port) {
  std::string instance = absl::GetFlag(FLAGS_advertise);
  if (instance.empty() || instance == "false") return nullptr;
  if (instance == "true") instance.clear();
  const std::string listen = absl::GetFlag(FLAGS_listen);
  discovery::AdvertiseOptions options;
  options.instance = instance;
  options.cluster = absl::GetFlag(FLAGS_cluster);
  options.tls = !absl::GetFlag(FLAGS_tls_cert).empty();
  auto responder = discovery::AdvertiseMaster(options, listen, port);
  if (!responder.ok()) return responder.status();
  absl::FPrintF(stderr, "distributo-master: advertising %s over mDNS%s\n",
                (*responder)->instance_name(),
                IsLoopback(listen)
                    ? " on loopback only, where it listens (--listen=0.0.0.0 "
                      "serves the LAN)"
                    : "");
  return responder;
}

// Starts the HTTP port if --http_port asks for one; null when not.
absl::StatusOr<std::unique_ptr<StatusServer>> StartStatusServer(
    Master& master) {
  const int port = absl::GetFlag(FLAGS_http_port);
  if (port < 0) return nullptr;
  const std::string listen = absl::GetFlag(FLAGS_http_listen);
  const MasterOptions& options = master.options();
  if (!options.tls.enabled() && !options.insecure && !IsLoopback(listen)) {
    // As for the gRPC port: what it shows, and any token sent to it, would
    // cross that network in the clear.
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve the HTTP port in plaintext on ", listen,
        ", which other hosts can reach: give --tls_cert and --tls_key, or "
        "--insecure on a network you trust"));
  }
  auto server = StatusServer::Start(&master, listen, port);
  if (!server.ok()) return server.status();
  absl::FPrintF(stderr, "distributo-master: status page at %s://%s:%d/\n",
                master.options().tls.enabled() ? "https" : "http", listen,
                (*server)->port());
  return server;
}

// Keeps the HTTP port up for --linger after the job, or until a signal.
void Linger(const StatusServer* status) {
  const absl::Duration linger = absl::GetFlag(FLAGS_linger);
  if (status == nullptr || linger <= absl::ZeroDuration()) return;
  absl::FPrintF(stderr,
                "distributo-master: job complete; the status page stays up "
                "for %s (a signal ends it)\n",
                absl::FormatDuration(linger));
  const absl::Time end = absl::Now() + linger;
  while (absl::Now() < end && stop_signal.load() == 0) {
    absl::SleepFor(std::min(kStopCheck, end - absl::Now()));
  }
}

// Serves until the job is complete (job mode) or forever (service mode), or
// until a stop signal and the drain after it.
int RunMaster(Master& master, TaskSource& tasks, bool job_mode,
              const std::string& results_path) {
  const absl::Time start = absl::Now();
  auto status = StartStatusServer(master);
  if (!status.ok()) return CannotStart(status.status());
  if (auto code = EnqueueAndAnnounce(master, tasks, job_mode)) {
    return *code;
  }
  auto advertisement = Advertise(master.port());
  if (!advertisement.ok()) return CannotStart(advertisement.status());
  ProgressReporter progress(&master.queue(), stderr,
                            absl::GetFlag(FLAGS_progress_interval));
  const bool complete = WaitForTheEnd(master);
  progress.Stop();
  advertisement->reset();  // the goodbye: workers stop looking here
  master.Shutdown(complete ? absl::GetFlag(FLAGS_shutdown_grace)
                           : absl::ZeroDuration());
  const QueueCounts counts = master.queue().Counts();
  if (!complete) {
    PrintDrained(counts, master.durable());
    return 0;
  }
  const QueueCounts& resumed = master.recovery().counts;
  PrintSummary(counts, resumed.done + resumed.dead, absl::Now() - start,
               results_path);
  Linger(status->get());
  return counts.dead == 0 ? 0 : 1;
}

int Run() {
  const std::string tasks_path = absl::GetFlag(FLAGS_tasks);
  const std::string results_path = absl::GetFlag(FLAGS_results);
  auto schema = SchemaFromFlags();
  if (!schema.ok()) return CannotStart(schema.status());
  TaskLimits limits;
  limits.schema = schema->get();
  auto tasks = TaskSource::Open(tasks_path, limits);
  if (!tasks.ok()) return CannotStart(tasks.status());
  // Before the journal: a refusal must leave no file behind.
  auto options =
      OptionsFromFlags(JobName(tasks->held(), schema->get()), *schema);
  if (!options.ok()) return CannotStart(options.status());
  auto opened = OpenJournal(tasks_path, results_path);
  if (!opened.ok()) return CannotStart(opened.status());
  // Synced results let the journal record how far the file is durable.
  auto sink = JsonlResultSink::Create(results_path,
                                      /*sync=*/opened->journal->durable());
  if (!sink.ok()) return CannotStart(sink.status());
  (*sink)->set_schema(schema->get());
  auto master = Master::Create(*std::move(options), std::move(opened->journal),
                               *std::move(sink));
  if (!master.ok()) return CannotStart(master.status());
  PrintRecovery((*master)->recovery(), opened->path);
  return RunMaster(**master, *tasks, !tasks_path.empty(), results_path);
}

// Returns argv with a bare "--advertise" spelled "--advertise=true": Abseil
// string flags need a value, and would take the next argument as it.
char** BareAdvertiseAsTrue(char** argv) {
  static char kAdvertiseTrue[] = "--advertise=true";
  for (char** arg = argv; *arg != nullptr; ++arg) {
    if (strcmp(*arg, "--advertise") == 0 || strcmp(*arg, "-advertise") == 0) {
      *arg = kAdvertiseTrue;
    }
  }
  return argv;
}

}  // namespace
}  // namespace distributo::server

int main(int argc, char** argv) {
  distributo::server::TurnOffSqliteMemoryStatistics();
  distributo::TurnOffMutexDeadlockDetection();
  // Before any thread starts, so that only the signal thread gets them.
  const sigset_t stop_signals = distributo::BlockStopSignals();
  distributo::HandleStopSignals(stop_signals, [](int signal) {
    distributo::server::stop_signal = signal;
  });
  absl::SetProgramUsageMessage(
      "Serves tasks to distributo workers.\n"
      "  distributo-master --tasks=tasks.jsonl --results=results.jsonl");
  absl::ParseCommandLine(argc, distributo::server::BareAdvertiseAsTrue(argv));
  if (absl::Status status = distributo::InitLogging(argv[0]); !status.ok()) {
    LOG(WARNING) << status;
  }
  return distributo::server::Run();
}
