#include "tests/conformance/protocol_cases.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/time_util.h"
#include "syllable_counter.h"

namespace distributo::conformance {
namespace {

using examples::syllables::CountSyllables;
using google::protobuf::util::TimeUtil;

constexpr absl::Duration kStartup = absl::Seconds(15);  // the worker's start
constexpr absl::Duration kPatience = absl::Seconds(10);

constexpr const char* kWords[] = {"banana", "apple",   "cherry", "syllable",
                                  "table",  "idea",    "piano",  "radio",
                                  "create", "quality", "being",  "fire"};

absl::Status Fail(const std::string& why) {
  return absl::FailedPreconditionError(why);
}

// A task {"word": word, "sleep_ms": sleep_ms} under its first lease.
v1::Task Task(const std::string& id, const std::string& word,
              absl::Duration lease, int sleep_ms = 0) {
  google::protobuf::Value payload;
  auto& fields = *payload.mutable_struct_value()->mutable_fields();
  fields["word"].set_string_value(word);
  if (sleep_ms > 0) fields["sleep_ms"].set_number_value(sleep_ms);
  v1::Task task;
  task.set_id(id);
  task.mutable_payload()->PackFrom(payload);
  task.set_attempt(1);
  task.set_epoch(1);
  *task.mutable_lease_deadline() =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now() + lease));
  return task;
}

// The master's side of one worker session, step by step.
class Conversation {
 public:
  using VerdictFor = std::function<v1::Verdict(const v1::Outcome&)>;

  explicit Conversation(ScriptedMaster& master) : master_(master) {}

  // Waits for a RequestBatch stream and its hello, and starts a session
  // (resumed, if the hello resumes this conversation's session).
  absl::Status Open(absl::Duration lease, uint32_t max_batch_tasks) {
    lease_ = lease;
    max_batch_tasks_ = max_batch_tasks;
    tasks_ = master_.NextTaskStream(session_id_.empty() ? kStartup : kPatience);
    if (tasks_ == nullptr) return Fail("the worker opened no RequestBatch");
    std::optional<v1::BatchRequest> hello = tasks_->Next(kPatience);
    if (!hello.has_value() || !hello->has_hello()) {
      return Fail("the first RequestBatch message is not a WorkerHello");
    }
    const bool resumed = !session_id_.empty() &&
                         hello->hello().resume_session_id() == session_id_;
    if (!session_id_.empty() && !resumed) {
      return Fail(absl::StrCat("the worker came back without resuming session ",
                               session_id_));
    }
    session_id_ = absl::StrCat("conformance-", ++sessions_);
    if (resumed) session_id_ = hello->hello().resume_session_id();
    credit_ = granted_ = hello->hello().initial_credit();
    v1::TaskBatch start;
    v1::SessionStart* session = start.mutable_session();
    session->set_session_id(session_id_);
    *session->mutable_lease_duration() =
        TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(lease));
    *session->mutable_requeue_grace() = TimeUtil::SecondsToDuration(5);
    session->set_max_batch_tasks(max_batch_tasks);
    session->set_max_result_bytes(1 << 20);
    session->set_max_message_bytes(4 << 20);
    session->set_resumed(resumed);
    session->set_job_id("conformance-job");
    tasks_->Send(std::move(start));
    results_ = nullptr;
    return absl::OkStatus();
  }

  // Reads credit grants until `at_least` are outstanding.
  absl::Status AwaitCredit(uint64_t at_least) {
    const absl::Time deadline = absl::Now() + kPatience;
    while (credit_ < at_least) {
      std::optional<v1::BatchRequest> request =
          tasks_->Next(deadline - absl::Now());
      if (!request.has_value()) {
        return Fail(absl::StrCat("the worker granted ", credit_,
                                 " tasks of credit, not the ", at_least,
                                 " expected"));
      }
      credit_ += request->credit().tasks();
      granted_ += request->credit().tasks();
    }
    return absl::OkStatus();
  }

  // Sends tasks in batches, within the credit granted.
  absl::Status Send(const std::vector<v1::Task>& tasks) {
    if (tasks.size() > credit_) return Fail("sending beyond the credit");
    for (size_t i = 0; i < tasks.size(); i += max_batch_tasks_) {
      v1::TaskBatch batch;
      // As the master does: the lease of every task in the batch.
      *batch.mutable_tasks()->mutable_lease_duration() =
          TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(lease_));
      for (size_t j = i; j < std::min(tasks.size(), i + max_batch_tasks_);
           ++j) {
        *batch.mutable_tasks()->add_tasks() = tasks[j];
        words_[tasks[j].id()] = WordOf(tasks[j]);
      }
      tasks_->Send(std::move(batch));
    }
    credit_ -= tasks.size();
    return absl::OkStatus();
  }

  // Reads ResultBatches until `count` outcomes came, answering each batch
  // with `verdict_for` each outcome (no ack at all if null) and every
  // extension with ACCEPTED and a fresh lease; extensions are recorded.
  absl::StatusOr<std::vector<v1::Outcome>> AwaitOutcomes(
      size_t count, absl::Duration timeout, const VerdictFor& verdict_for) {
    const absl::Time deadline = absl::Now() + timeout;
    std::vector<v1::Outcome> outcomes;
    while (outcomes.size() < count) {
      if (results_ == nullptr) {
        results_ = master_.NextResultStream(deadline - absl::Now());
        if (results_ == nullptr) return Fail("no SubmitResults stream came");
        first_batch_ = true;
      }
      std::optional<v1::ResultBatch> batch =
          results_->Next(deadline - absl::Now());
      if (!batch.has_value()) {
        return Fail(absl::StrCat(outcomes.size(), " of ", count,
                                 " outcomes came in time"));
      }
      if (first_batch_ && batch->session_id() != session_id_) {
        return Fail(
            absl::StrCat("the stream's first ResultBatch names session \"",
                         batch->session_id(), "\", not ", session_id_));
      }
      first_batch_ = false;
      Answer(*batch, verdict_for);
      outcomes.insert(outcomes.end(), batch->outcomes().begin(),
                      batch->outcomes().end());
    }
    return outcomes;
  }

  // Returns why an outcome is not the right result of its task, or OK.
  absl::Status CheckResult(const v1::Outcome& outcome) const {
    const auto word = words_.find(outcome.lease().task_id());
    if (word == words_.end()) {
      return Fail(absl::StrCat("an outcome for task \"",
                               outcome.lease().task_id(), "\", never sent"));
    }
    google::protobuf::Value result;
    if (!outcome.has_result() || !outcome.result().UnpackTo(&result)) {
      return Fail(absl::StrCat("task ", word->first, " ended in a failure: ",
                               outcome.failure().message()));
    }
    const auto& fields = result.struct_value().fields();
    const auto syllables = fields.find("syllables");
    if (syllables == fields.end() ||
        syllables->second.number_value() != CountSyllables(word->second)) {
      return Fail(absl::StrCat("a wrong result for \"", word->second, "\""));
    }
    return absl::OkStatus();
  }

  TaskStream* tasks() const { return tasks_; }
  ResultStream* results() const { return results_; }
  absl::Duration lease() const { return lease_; }
  uint64_t granted() const { return granted_; }
  uint64_t credit() const { return credit_; }
  // Times at which each lease was extended, by task id.
  const std::map<std::string, std::vector<absl::Time>>& extensions() const {
    return extensions_;
  }
  // Credit grants the worker sent since the last call, without waiting.
  uint64_t DrainCredit(absl::Duration wait) {
    uint64_t more = 0;
    while (std::optional<v1::BatchRequest> request = tasks_->Next(wait)) {
      more += request->credit().tasks();
      wait = absl::ZeroDuration();
    }
    credit_ += more;
    granted_ += more;
    return more;
  }

 private:
  static std::string WordOf(const v1::Task& task) {
    google::protobuf::Value payload;
    task.payload().UnpackTo(&payload);
    return payload.struct_value().fields().at("word").string_value();
  }

  void Answer(const v1::ResultBatch& batch, const VerdictFor& verdict_for) {
    v1::ResultAck ack;
    ack.set_batch_id(batch.batch_id());
    for (const v1::LeaseRef& lease : batch.extensions()) {
      extensions_[lease.task_id()].push_back(absl::Now());
      v1::ItemVerdict* verdict = ack.add_extensions();
      verdict->set_task_id(lease.task_id());
      verdict->set_verdict(v1::VERDICT_ACCEPTED);
      *verdict->mutable_lease_duration() =
          TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(lease_));
    }
    if (!verdict_for) return;  // no ack: as if it was lost
    for (const v1::Outcome& outcome : batch.outcomes()) {
      v1::ItemVerdict* verdict = ack.add_outcomes();
      verdict->set_task_id(outcome.lease().task_id());
      verdict->set_verdict(verdict_for(outcome));
    }
    results_->Send(std::move(ack));
  }

  ScriptedMaster& master_;
  TaskStream* tasks_ = nullptr;
  ResultStream* results_ = nullptr;
  bool first_batch_ = true;
  std::string session_id_;
  int sessions_ = 0;
  absl::Duration lease_;
  uint32_t max_batch_tasks_ = 10;
  uint64_t credit_ = 0;                       // outstanding
  uint64_t granted_ = 0;                      // since the session began
  std::map<std::string, std::string> words_;  // by task id
  std::map<std::string, std::vector<absl::Time>> extensions_;
};

v1::Verdict Accept(const v1::Outcome&) { return v1::VERDICT_ACCEPTED; }

absl::Status CheckAll(const Conversation& talk,
                      const std::vector<v1::Outcome>& outcomes) {
  for (const v1::Outcome& outcome : outcomes) {
    if (absl::Status status = talk.CheckResult(outcome); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

// Credits: the master sends no more than granted; the worker grants a
// window, and grants again as tasks finish.
absl::Status CreditsAndTheWindow(ScriptedMaster& master, WorkerUnderTest&) {
  Conversation talk(master);
  if (absl::Status s = talk.Open(absl::Seconds(30), 4); !s.ok()) return s;
  if (absl::Status s = talk.AwaitCredit(1); !s.ok()) return s;
  talk.DrainCredit(absl::Milliseconds(300));  // the rest of the window
  const uint64_t window = std::min<uint64_t>(talk.credit(), 40);
  std::vector<v1::Task> tasks;
  for (uint64_t i = 0; i < window; ++i) {
    tasks.push_back(Task(absl::StrCat("c", i), kWords[i % std::size(kWords)],
                         absl::Seconds(30)));
  }
  if (absl::Status s = talk.Send(tasks); !s.ok()) return s;
  auto outcomes = talk.AwaitOutcomes(window, kPatience, Accept);
  if (!outcomes.ok()) return outcomes.status();
  if (absl::Status s = CheckAll(talk, *outcomes); !s.ok()) return s;
  const uint64_t before = talk.granted();
  // Every finished task's credit comes back.
  for (absl::Time deadline = absl::Now() + kPatience;
       talk.granted() - before < window && absl::Now() < deadline;) {
    talk.DrainCredit(absl::Milliseconds(100));
  }
  if (talk.granted() - before < window) {
    return Fail(absl::StrCat("after ", window, " tasks finished, ",
                             talk.granted() - before,
                             " tasks of credit came back"));
  }
  return absl::OkStatus();
}

// A task that runs longer than the lease keeps it by extensions, each
// within the lease of the one before.
absl::Status LeaseExtension(ScriptedMaster& master, WorkerUnderTest&) {
  // A worker extending every third of the lease keeps it even when a busy
  // machine holds one extension up by a second; the task outlasts two leases.
  constexpr absl::Duration kLease = absl::Seconds(2);
  constexpr int kTaskMs = 5000;
  Conversation talk(master);
  if (absl::Status s = talk.Open(kLease, 4); !s.ok()) return s;
  if (absl::Status s = talk.AwaitCredit(1); !s.ok()) return s;
  const absl::Time leased = absl::Now();
  if (absl::Status s = talk.Send({Task("slow", "banana", kLease, kTaskMs)});
      !s.ok()) {
    return s;
  }
  auto outcomes = talk.AwaitOutcomes(1, kPatience, Accept);
  if (!outcomes.ok()) return outcomes.status();
  const absl::Time done = absl::Now();
  if (absl::Status s = CheckAll(talk, *outcomes); !s.ok()) return s;
  if (done - leased < absl::Milliseconds(kTaskMs * 9 / 10)) {
    return Fail(absl::StrCat("the ", kTaskMs / 1000, " s task came back after ",
                             absl::FormatDuration(done - leased),
                             ": \"sleep_ms\" was not honoured"));
  }
  std::vector<absl::Time> times = {leased};
  if (auto it = talk.extensions().find("slow"); it != talk.extensions().end()) {
    times.insert(times.end(), it->second.begin(), it->second.end());
  }
  times.push_back(done);
  for (size_t i = 1; i < times.size(); ++i) {
    if (times[i] - times[i - 1] > kLease) {
      return Fail(absl::StrCat(
          "the ", absl::FormatDuration(kLease), " lease went ",
          absl::FormatDuration(times[i] - times[i - 1]),
          " without an extension (", times.size() - 2, " extensions in all)"));
    }
  }
  return absl::OkStatus();
}

// Duplicate and stale verdicts are final: those outcomes are not sent
// again, and the worker goes on.
absl::Status DuplicateAndStaleVerdicts(ScriptedMaster& master,
                                       WorkerUnderTest&) {
  Conversation talk(master);
  if (absl::Status s = talk.Open(absl::Seconds(30), 4); !s.ok()) return s;
  if (absl::Status s = talk.AwaitCredit(3); !s.ok()) return s;
  const absl::Duration lease = absl::Seconds(30);
  if (absl::Status s = talk.Send({Task("dup", "apple", lease),
                                  Task("stale", "cherry", lease),
                                  Task("ok", "table", lease)});
      !s.ok()) {
    return s;
  }
  auto verdict = [](const v1::Outcome& outcome) {
    const std::string& id = outcome.lease().task_id();
    return id == "dup"     ? v1::VERDICT_DUPLICATE
           : id == "stale" ? v1::VERDICT_STALE
                           : v1::VERDICT_ACCEPTED;
  };
  auto outcomes = talk.AwaitOutcomes(3, kPatience, verdict);
  if (!outcomes.ok()) return outcomes.status();
  auto again = talk.AwaitOutcomes(1, absl::Seconds(2), verdict);
  if (again.ok()) {
    return Fail(absl::StrCat("task ", (*again)[0].lease().task_id(),
                             " was sent again after its final verdict"));
  }
  // It goes on: one more task runs.
  if (absl::Status s = talk.AwaitCredit(1); !s.ok()) return s;
  if (absl::Status s = talk.Send({Task("after", "idea", lease)}); !s.ok()) {
    return s;
  }
  auto after = talk.AwaitOutcomes(1, kPatience, Accept);
  if (!after.ok()) return after.status();
  return CheckAll(talk, *after);
}

// A dropped connection: the worker comes back, resumes its session and
// sends the outcomes that were never acked.
absl::Status DroppedStreamResubmission(ScriptedMaster& master,
                                       WorkerUnderTest&) {
  Conversation talk(master);
  const absl::Duration lease = absl::Seconds(30);
  if (absl::Status s = talk.Open(lease, 4); !s.ok()) return s;
  if (absl::Status s = talk.AwaitCredit(2); !s.ok()) return s;
  if (absl::Status s =
          talk.Send({Task("r1", "piano", lease), Task("r2", "radio", lease)});
      !s.ok()) {
    return s;
  }
  auto unacked = talk.AwaitOutcomes(2, kPatience, nullptr);
  if (!unacked.ok()) return unacked.status();
  talk.results()->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped"));
  talk.tasks()->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped"));
  if (absl::Status s = talk.Open(lease, 4); !s.ok()) return s;
  auto resent = talk.AwaitOutcomes(2, kPatience, Accept);
  if (!resent.ok()) {
    return Fail(
        absl::StrCat("after the reconnect: ", resent.status().message()));
  }
  absl::flat_hash_set<std::string> ids;
  for (const v1::Outcome& outcome : *resent) {
    if (outcome.lease().epoch() != 1)
      return Fail("a resubmission changed its epoch");
    ids.insert(outcome.lease().task_id());
  }
  if (ids != absl::flat_hash_set<std::string>{"r1", "r2"}) {
    return Fail("the resubmitted outcomes are not the unacked ones");
  }
  return CheckAll(talk, *resent);
}

// A cancelled lease: the worker stops the task, sends no outcome for it,
// and hands its credit back.
absl::Status Cancellation(ScriptedMaster& master, WorkerUnderTest&) {
  Conversation talk(master);
  const absl::Duration lease = absl::Seconds(30);
  if (absl::Status s = talk.Open(lease, 4); !s.ok()) return s;
  if (absl::Status s = talk.AwaitCredit(1); !s.ok()) return s;
  talk.DrainCredit(absl::Milliseconds(300));  // the rest of the window
  if (absl::Status s = talk.Send({Task("doomed", "fire", lease, 2000)});
      !s.ok()) {
    return s;
  }
  // Queued or running by now, the task is the worker's to stop.
  v1::TaskBatch cancel;
  v1::LeaseRef* ref = cancel.mutable_cancel()->add_leases();
  ref->set_task_id("doomed");
  ref->set_epoch(1);
  cancel.mutable_cancel()->set_reason("conformance: cancelled");
  const uint64_t before = talk.granted();
  talk.tasks()->Send(std::move(cancel));
  for (absl::Time deadline = absl::Now() + absl::Seconds(3);
       talk.granted() == before && absl::Now() < deadline;) {
    talk.DrainCredit(absl::Milliseconds(100));
  }
  if (talk.granted() == before) {
    return Fail("no credit came back for the cancelled task within 3 s");
  }
  // Past the 2 s it would have taken: still no outcome.
  auto outcome = talk.AwaitOutcomes(1, absl::Seconds(3), Accept);
  if (outcome.ok()) return Fail("an outcome came for the cancelled task");
  return absl::OkStatus();
}

// Drained means "nothing now": the worker stays; JobComplete means "done":
// it exits 0.
absl::Status DrainedThenComplete(ScriptedMaster& master,
                                 WorkerUnderTest& worker) {
  Conversation talk(master);
  const absl::Duration lease = absl::Seconds(30);
  if (absl::Status s = talk.Open(lease, 4); !s.ok()) return s;
  if (absl::Status s = talk.AwaitCredit(1); !s.ok()) return s;
  v1::TaskBatch drained;
  drained.mutable_drained();
  talk.tasks()->Send(std::move(drained));
  if (std::optional<int> code = worker.WaitForExit(absl::Seconds(2))) {
    return Fail(absl::StrCat("the worker exited (", *code,
                             ") on Drained, which means only nothing now"));
  }
  if (talk.tasks()->closed()) return Fail("the worker left on Drained");
  if (absl::Status s = talk.Send({Task("late", "create", lease)}); !s.ok()) {
    return s;
  }
  auto outcomes = talk.AwaitOutcomes(1, kPatience, Accept);
  if (!outcomes.ok()) return outcomes.status();
  if (absl::Status s = CheckAll(talk, *outcomes); !s.ok()) return s;
  v1::TaskBatch complete;
  complete.mutable_complete()->set_done(1);
  talk.tasks()->Send(std::move(complete));
  talk.tasks()->End(grpc::Status::OK);
  // The worker closes its results stream once all is acked; then it exits.
  std::optional<int> code;
  for (absl::Time deadline = absl::Now() + kPatience;
       !code.has_value() && absl::Now() < deadline;) {
    if (talk.results() != nullptr && talk.results()->closed()) {
      talk.results()->End(grpc::Status::OK);
    }
    code = worker.WaitForExit(absl::Milliseconds(100));
  }
  if (!code.has_value()) return Fail("the worker did not exit on JobComplete");
  if (*code != 0) {
    return Fail(absl::StrCat("the worker exited ", *code, " on JobComplete"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<ProtocolCase> AllCases() {
  return {
      {"credits_and_window",
       "a window of credit, granted again as tasks finish",
       CreditsAndTheWindow},
      {"lease_extension", "a 5 s task under a 2 s lease keeps it by extensions",
       LeaseExtension},
      {"duplicate_and_stale", "final verdicts are not resubmitted",
       DuplicateAndStaleVerdicts},
      {"dropped_stream", "a reconnect resumes and resends unacked outcomes",
       DroppedStreamResubmission},
      {"cancellation",
       "a cancelled task sends no outcome, its credit comes back",
       Cancellation},
      {"drained_vs_complete", "stays on Drained, exits 0 on JobComplete",
       DrainedThenComplete},
  };
}

}  // namespace distributo::conformance
