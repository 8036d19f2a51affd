// Drives a real Master on 127.0.0.1:0 with raw distributo.v1 streams, as a
// worker in any language would, including the bad inputs of docs/protocol.md.

#include "server/master.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "distributo/v1/distributor.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "reflection_messages.pb.h"
#include "rpc/json_value.h"
#include "server/sqlite_journal.h"
#include "tests/integration/child_process.h"
#include "tests/server/fake_journal.h"

namespace distributo::server {
namespace {

using BatchStreamClient =
    grpc::ClientReaderWriter<v1::BatchRequest, v1::TaskBatch>;
using ResultStreamClient =
    grpc::ClientReaderWriter<v1::ResultBatch, v1::ResultAck>;

// Collects what the master hands to its sink.
class CollectingSink final : public ResultSink {
 public:
  absl::Status Write(const std::vector<FinishedTask>& finished) override {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    for (const FinishedTask& task : finished) ids_.emplace_back(task.task.id());
    return absl::OkStatus();
  }
  std::vector<std::string> ids() {
    absl::MutexLock lock(&mu_);
    return ids_;
  }

  // Makes writes wait until Release(), as a slow disk or handler would.
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Returns the ids once there are at least `count`, or after 10 s: the
  // master acks a batch before it hands the batch's results over.
  std::vector<std::string> WaitForIds(size_t count) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return ids_.size() >= count;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return ids_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> ids_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
};

class MasterTest : public ::testing::Test {
 protected:
  void SetUp() override { StartMaster(std::make_unique<InMemoryJournal>()); }

  // Starts a master on `journal`, replacing any earlier one, with a new sink
  // (and worker tokens, if any).
  void StartMaster(std::unique_ptr<Journal> journal, WorkerTokens tokens = {}) {
    master_.reset();
    MasterOptions options = options_;
    options.tokens = std::move(tokens);
    options.queue.max_batch_tasks = 4;
    options.reaper_interval = absl::Milliseconds(20);
    auto sink = std::make_unique<CollectingSink>();
    sink_ = sink.get();
    auto master = Master::Create(options, std::move(journal), std::move(sink));
    ASSERT_TRUE(master.ok()) << master.status();
    master_ = *std::move(master);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", master_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Distributor::NewStub(channel_);
  }

  void EnqueueIds(int count) {
    std::vector<v1::Task> tasks;
    for (int i = 0; i < count; ++i) {
      v1::Task& task = tasks.emplace_back();
      task.set_id(absl::StrCat("t", i));
      *task.mutable_payload() = *JsonToAny(absl::StrCat(i));
    }
    std::vector<PackedTask> packed = PackTasks(std::move(tasks));
    ASSERT_TRUE(master_->Enqueue(&packed).ok());
  }

  // Opens a RequestBatch stream with a hello granting `credit`, and reads the
  // SessionStart.
  std::unique_ptr<BatchStreamClient> Connect(grpc::ClientContext* context,
                                             uint32_t credit,
                                             std::string* session_id) {
    auto stream = stub_->RequestBatch(context);
    v1::BatchRequest hello;
    hello.mutable_hello()->set_worker_name("test");
    hello.mutable_hello()->set_initial_credit(credit);
    EXPECT_TRUE(stream->Write(hello));
    v1::TaskBatch start;
    EXPECT_TRUE(stream->Read(&start));
    EXPECT_TRUE(start.has_session());
    *session_id = start.session().session_id();
    return stream;
  }

  // Submits one batch on a fresh SubmitResults stream (with `token`, if
  // any) and returns its ack.
  v1::ResultAck SubmitOnce(const v1::ResultBatch& batch,
                           const std::string& token = "") {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    auto stream = stub_->SubmitResults(&context);
    EXPECT_TRUE(stream->Write(batch));
    v1::ResultAck ack;
    EXPECT_TRUE(stream->Read(&ack));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return ack;
  }

  // Returns a batch of `session` with a result for each task of `leased`.
  static v1::ResultBatch ResultsFor(const std::string& session,
                                    const v1::TaskBatch& leased) {
    v1::ResultBatch results;
    results.set_session_id(session);
    for (const v1::Task& task : leased.tasks().tasks()) {
      *results.add_outcomes() = ResultFor(task);
    }
    return results;
  }

  static v1::Outcome ResultFor(const v1::Task& task) {
    v1::Outcome outcome;
    outcome.mutable_lease()->set_task_id(task.id());
    outcome.mutable_lease()->set_epoch(task.epoch());
    *outcome.mutable_result() = *JsonToAny("true");
    return outcome;
  }

  // What StartMaster() starts from, besides the journal and tokens it takes.
  MasterOptions options_;
  CollectingSink* sink_ = nullptr;
  std::unique_ptr<Master> master_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Distributor::Stub> stub_;
};

// What a call made with raw bytes came to.
struct RawCall {
  grpc::Status status;
  std::vector<std::string> replies;
};

// Reads one message of `call` into `replies`; returns whether there was one.
bool ReadRawReply(grpc::GenericClientAsyncReaderWriter& call,
                  grpc::CompletionQueue& queue,
                  std::vector<std::string>& replies) {
  grpc::ByteBuffer reply;
  void* tag;
  bool ok;
  call.Read(&reply, nullptr);
  if (!queue.Next(&tag, &ok) || !ok) return false;
  std::vector<grpc::Slice> slices;
  std::string& bytes = replies.emplace_back();
  if (reply.Dump(&slices).ok()) {
    for (const grpc::Slice& slice : slices) {
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
  }
  return true;
}

// Calls `method` bypassing protobuf: sends each of `messages`, reading one
// reply after each if `read_replies`, then half-closes and finishes. One
// operation at a time, each awaited before the next; a step that fails (the
// server ended the call) leaves Finish to report why.
RawCall CallWithRawBytes(std::shared_ptr<grpc::Channel> channel,
                         const std::string& method,
                         const std::vector<std::string>& messages,
                         bool read_replies = false) {
  grpc::GenericStub stub(std::move(channel));
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto call = stub.PrepareCall(&context, method, &queue);
  RawCall result;
  void* tag;
  bool ok;
  call->StartCall(nullptr);
  bool going = queue.Next(&tag, &ok) && ok;
  for (const std::string& message : messages) {
    if (!going) break;
    grpc::Slice slice(message);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, nullptr);
    going = queue.Next(&tag, &ok) && ok &&
            (!read_replies || ReadRawReply(*call, queue, result.replies));
  }
  if (going) {
    call->WritesDone(nullptr);
    queue.Next(&tag, &ok);
  }
  call->Finish(&result.status, nullptr);
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return result;
}

TEST_F(MasterTest, LeasesNeverExceedTheCreditGranted) {
  EnqueueIds(20);
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 6, &session);
  int received = 0;
  v1::TaskBatch batch;
  while (received < 6 && stream->Read(&batch)) {
    ASSERT_TRUE(batch.has_tasks());
    EXPECT_LE(batch.tasks().tasks_size(), 4);
    received += batch.tasks().tasks_size();
  }
  EXPECT_EQ(received, 6);
  EXPECT_EQ(master_->queue().Counts().leased, 6u);
  v1::BatchRequest more;
  more.mutable_credit()->set_tasks(1);
  ASSERT_TRUE(stream->Write(more));
  ASSERT_TRUE(stream->Read(&batch));
  EXPECT_EQ(batch.tasks().tasks_size(), 1);
  EXPECT_EQ(master_->queue().Counts().leased, 7u);
  context.TryCancel();
}

TEST_F(MasterTest, ResultsWaitingForASlowSinkHoldBackLeasesUntilWritten) {
  options_.queue.max_unhandled = 4;
  StartMaster(std::make_unique<InMemoryJournal>());
  EnqueueIds(8);
  sink_->Hold();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  std::string session;
  auto stream = Connect(&context, 4, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  ASSERT_EQ(batch.tasks().tasks_size(), 4);
  const v1::ResultAck ack = SubmitOnce(ResultsFor(session, batch));
  ASSERT_EQ(ack.outcomes_size(), 4);
  v1::BatchRequest more;
  more.mutable_credit()->set_tasks(4);
  ASSERT_TRUE(stream->Write(more));
  ASSERT_TRUE(stream->Read(&batch));
  EXPECT_TRUE(batch.has_drained())
      << "four results wait for the sink, so no task is leased";
  EXPECT_EQ(master_->queue().Counts().leased, 0u);
  sink_->Release();
  ASSERT_TRUE(stream->Read(&batch)) << "the sink caught up: leasing resumes";
  EXPECT_EQ(batch.tasks().tasks_size(), 4);
  EXPECT_EQ(sink_->ids().size(), 4u);
  context.TryCancel();
}

TEST_F(MasterTest, WithTokensAWorkerUsesOnlyItsOwnSession) {
  StartMaster(std::make_unique<InMemoryJournal>(),
              {{"alice-token", "alice"}, {"bob-token", "bob"}});
  EnqueueIds(1);
  grpc::ClientContext alice;
  alice.AddMetadata("authorization", "Bearer alice-token");
  std::string session;
  auto stream = Connect(&alice, 1, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  ASSERT_EQ(batch.tasks().tasks_size(), 1);
  const v1::ResultBatch results = ResultsFor(session, batch);

  // Bob knows Alice's session id: he can neither hand in her outcomes nor
  // take her session over. (Deadlines: were he let in, his stream would
  // stay open.)
  grpc::ClientContext bob_submits;
  bob_submits.AddMetadata("authorization", "Bearer bob-token");
  bob_submits.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
  auto bob_results = stub_->SubmitResults(&bob_submits);
  bob_results->Write(results);
  v1::ResultAck ack;
  EXPECT_FALSE(bob_results->Read(&ack));
  EXPECT_EQ(bob_results->Finish().error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext bob_resumes;
  bob_resumes.AddMetadata("authorization", "Bearer bob-token");
  bob_resumes.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
  auto bob_stream = stub_->RequestBatch(&bob_resumes);
  v1::BatchRequest hello;
  hello.mutable_hello()->set_resume_session_id(session);
  bob_stream->Write(hello);
  EXPECT_FALSE(bob_stream->Read(&batch));
  EXPECT_EQ(bob_stream->Finish().error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(master_->queue().Counts().done, 0u);

  ack = SubmitOnce(results, "alice-token");
  ASSERT_EQ(ack.outcomes_size(), 1);
  EXPECT_EQ(ack.outcomes(0).verdict(), v1::VERDICT_ACCEPTED);
  alice.TryCancel();
}

TEST_F(MasterTest, EmptyQueueSaysDrainedThenSendsNewTasks) {
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 10, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  EXPECT_TRUE(batch.has_drained());
  EnqueueIds(2);
  ASSERT_TRUE(stream->Read(&batch));
  EXPECT_EQ(batch.tasks().tasks_size(), 2);
  context.TryCancel();
}

TEST_F(MasterTest, JobCompleteIsSentAndTheStreamClosedWithOk) {
  EnqueueIds(1);
  master_->queue().CloseSource();
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 10, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  ASSERT_EQ(batch.tasks().tasks_size(), 1);
  EXPECT_EQ(SubmitOnce(ResultsFor(session, batch)).outcomes(0).verdict(),
            v1::VERDICT_ACCEPTED);
  // A Drained may come first, sent while the task was still leased.
  ASSERT_TRUE(stream->Read(&batch));
  if (batch.has_drained()) {
    ASSERT_TRUE(stream->Read(&batch));
  }
  ASSERT_TRUE(batch.has_complete());
  EXPECT_EQ(batch.complete().done(), 1u);
  EXPECT_FALSE(stream->Read(&batch));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(sink_->ids(), std::vector<std::string>{"t0"});
}

TEST_F(MasterTest, FirstMessageOtherThanHelloIsInvalidArgument) {
  grpc::ClientContext context;
  auto stream = stub_->RequestBatch(&context);
  v1::BatchRequest credit;
  credit.mutable_credit()->set_tasks(5);
  stream->Write(credit);
  v1::TaskBatch batch;
  EXPECT_FALSE(stream->Read(&batch));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MasterTest, SecondHelloIsInvalidArgument) {
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 0, &session);
  v1::BatchRequest hello;
  hello.mutable_hello()->set_worker_name("again");
  stream->Write(hello);
  v1::TaskBatch batch;
  EXPECT_FALSE(stream->Read(&batch));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MasterTest, ResumingAnUnknownSessionIsNotFound) {
  grpc::ClientContext context;
  auto stream = stub_->RequestBatch(&context);
  v1::BatchRequest hello;
  hello.mutable_hello()->set_resume_session_id("no-such-session");
  stream->Write(hello);
  v1::TaskBatch batch;
  EXPECT_FALSE(stream->Read(&batch));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(MasterTest, ACancelReachesTheStreamThatResumedTheSession) {
  EnqueueIds(1);
  std::string session_id;
  grpc::ClientContext first_context;
  auto first = Connect(&first_context, 1, &session_id);
  v1::TaskBatch leased;
  ASSERT_TRUE(first->Read(&leased));
  ASSERT_EQ(leased.tasks().tasks_size(), 1);
  first_context.TryCancel();
  first->Finish().IgnoreError();  // CANCELLED, as asked
  // The master must see the break before the session can be resumed.
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        for (const WorkerStatus& worker : master_->queue().Status().workers) {
          if (worker.session_id == session_id) return !worker.connected;
        }
        return false;
      },
      absl::Seconds(5)));

  grpc::ClientContext context;
  auto resumed = stub_->RequestBatch(&context);
  v1::BatchRequest hello;
  hello.mutable_hello()->set_worker_name("test");
  hello.mutable_hello()->set_resume_session_id(session_id);
  ASSERT_TRUE(resumed->Write(hello));
  v1::TaskBatch start;
  ASSERT_TRUE(resumed->Read(&start));
  ASSERT_TRUE(start.session().resumed());

  auto cancelled = master_->Cancel("t0", "not needed");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_TRUE(cancelled->worker_told);
  v1::TaskBatch cancel;
  ASSERT_TRUE(resumed->Read(&cancel));
  ASSERT_EQ(cancel.cancel().leases_size(), 1);
  EXPECT_EQ(cancel.cancel().leases(0).task_id(), "t0");
  context.TryCancel();
  resumed->Finish().IgnoreError();
}

TEST_F(MasterTest, ResultsWithoutOrWithUnknownSessionEndTheStream) {
  for (const auto& [session, code] :
       std::vector<std::pair<std::string, grpc::StatusCode>>{
           {"", grpc::StatusCode::INVALID_ARGUMENT},
           {"bogus", grpc::StatusCode::NOT_FOUND}}) {
    grpc::ClientContext context;
    auto stream = stub_->SubmitResults(&context);
    v1::ResultBatch batch;
    batch.set_session_id(session);
    stream->Write(batch);
    v1::ResultAck ack;
    EXPECT_FALSE(stream->Read(&ack));
    EXPECT_EQ(stream->Finish().error_code(), code) << "session " << session;
  }
}

TEST_F(MasterTest, BadOutcomesGetVerdictsAndTheMasterKeepsServing) {
  EnqueueIds(2);
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 1, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  const v1::Task task = batch.tasks().tasks(0);
  v1::ResultBatch results;
  results.set_session_id(session);
  results.set_batch_id(7);
  v1::Outcome unknown = ResultFor(task);
  unknown.mutable_lease()->set_task_id("never-enqueued");
  v1::Outcome empty = ResultFor(task);
  empty.mutable_lease()->set_task_id("");
  v1::Outcome not_held = ResultFor(task);
  not_held.mutable_lease()->set_task_id(task.id() == "t0" ? "t1" : "t0");
  v1::Outcome oversized = ResultFor(task);
  *oversized.mutable_result() =
      *JsonToAny(absl::StrCat("\"", std::string(2 << 20, 'x'), "\""));
  for (const v1::Outcome& outcome : {unknown, empty, not_held, oversized}) {
    *results.add_outcomes() = outcome;
  }
  const v1::ResultAck ack = SubmitOnce(results);
  EXPECT_EQ(ack.batch_id(), 7u);
  ASSERT_EQ(ack.outcomes_size(), 4);
  EXPECT_EQ(ack.outcomes(0).verdict(), v1::VERDICT_NOT_YOURS);
  EXPECT_EQ(ack.outcomes(1).verdict(), v1::VERDICT_INVALID);
  EXPECT_EQ(ack.outcomes(2).verdict(), v1::VERDICT_NOT_YOURS);
  EXPECT_EQ(ack.outcomes(3).verdict(), v1::VERDICT_TOO_LARGE);
  EXPECT_TRUE(sink_->ids().empty());
  // Still serving: a proper result for the same lease is taken, since the
  // work was done even though the oversized copy counted as a failure.
  v1::ResultBatch good;
  good.set_session_id(session);
  *good.add_outcomes() = ResultFor(task);
  EXPECT_EQ(SubmitOnce(good).outcomes(0).verdict(), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(sink_->WaitForIds(1), std::vector<std::string>{task.id()});
  context.TryCancel();
}

TEST_F(MasterTest, MessageOverTheReceiveLimitIsResourceExhausted) {
  grpc::ClientContext context;
  auto stream = stub_->SubmitResults(&context);
  v1::ResultBatch batch;
  batch.set_session_id(std::string(5 << 20, 's'));
  stream->Write(batch);
  v1::ResultAck ack;
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_EQ(stream->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(MasterTest, HeadersOverTheMetadataLimitEndTheCallUnhandled) {
  // Below gRPC's own default, so that only the option can refuse them.
  options_.max_metadata_bytes = 2048;
  StartMaster(std::make_unique<InMemoryJournal>());
  grpc::ClientContext light;
  light.AddMetadata("padding", std::string(1024, 'p'));
  std::string session;
  auto served = Connect(&light, 0, &session);
  EXPECT_FALSE(session.empty()) << "1 KiB of headers was refused";
  light.TryCancel();

  grpc::ClientContext heavy;
  heavy.AddMetadata("padding", std::string(4096, 'p'));
  // A served call would wait for tasks: end it rather than hang.
  heavy.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
  auto stream = stub_->RequestBatch(&heavy);
  v1::BatchRequest hello;
  hello.mutable_hello()->set_worker_name("heavy");
  stream->Write(hello);
  v1::TaskBatch start;
  EXPECT_FALSE(stream->Read(&start)) << "4 KiB of headers opened a session";
  EXPECT_EQ(stream->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(MasterTest, AConnectionGetsSixteenStreamsAndTheNextOneWaits) {
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<BatchStreamClient>> streams;
  for (int i = 0; i < 16; ++i) {
    std::string session_id;
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(Connect(contexts.back().get(), 0, &session_id));
    ASSERT_FALSE(session_id.empty()) << "stream " << i;
  }
  v1::BatchRequest hello;
  hello.mutable_hello()->set_worker_name("seventeenth");
  grpc::ClientContext waiting;
  waiting.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(500));
  auto extra = stub_->RequestBatch(&waiting);
  extra->Write(hello);
  v1::TaskBatch start;
  EXPECT_FALSE(extra->Read(&start)) << "a 17th stream was served";
  EXPECT_EQ(extra->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Another connection is served at once.
  grpc::ChannelArguments own_connection;
  own_connection.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto other = v1::Distributor::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", master_->port()),
      grpc::InsecureChannelCredentials(), own_connection));
  grpc::ClientContext served;
  auto stream = other->RequestBatch(&served);
  ASSERT_TRUE(stream->Write(hello));
  ASSERT_TRUE(stream->Read(&start));
  EXPECT_TRUE(start.has_session());
  served.TryCancel();
  for (auto& context : contexts) context->TryCancel();
}

TEST_F(MasterTest, GarbageBytesEndTheStreamAndChangeNothing) {
  EnqueueIds(1);
  const std::string garbage("\xff\xff\xff\xff\x0f garbage", 13);
  for (const std::string method : {"/distributo.v1.Distributor/SubmitResults",
                                   "/distributo.v1.Distributor/RequestBatch"}) {
    EXPECT_EQ(CallWithRawBytes(channel_, method, {garbage}).status.error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << method;
  }
  const QueueCounts counts = master_->queue().Counts();
  EXPECT_EQ(counts.pending, 1u);
  EXPECT_EQ(counts.sessions, 0u);
  // Still serving.
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 1, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  EXPECT_EQ(batch.tasks().tasks_size(), 1);
  context.TryCancel();
}

TEST_F(MasterTest, ResubmissionsAfterARestartAreAcceptedOnceThenDuplicates) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/master_test_", getpid(), ".journal");
  std::remove(path.c_str());
  auto open = [&path]() -> std::unique_ptr<Journal> {
    auto journal = SqliteJournal::Open(path);
    EXPECT_TRUE(journal.ok()) << journal.status();
    return journal.ok() ? *std::move(journal) : nullptr;
  };
  StartMaster(open());
  EnqueueIds(2);
  v1::TaskBatch batch;
  {
    grpc::ClientContext context;
    std::string session;
    auto stream = Connect(&context, 2, &session);
    ASSERT_TRUE(stream->Read(&batch));
    ASSERT_EQ(batch.tasks().tasks_size(), 2);
    v1::ResultBatch first;
    first.set_session_id(session);
    *first.add_outcomes() = ResultFor(batch.tasks().tasks(0));
    ASSERT_EQ(SubmitOnce(first).outcomes(0).verdict(), v1::VERDICT_ACCEPTED);
    context.TryCancel();
  }
  master_.reset();  // Lets go of the journal before the next master opens it.
  StartMaster(open());
  EXPECT_TRUE(master_->recovery().resumed);
  EXPECT_EQ(master_->recovery().counts.done, 1u);
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 0, &session);
  // Both outcomes of the first run, as a reconnecting worker resubmits them.
  v1::ResultBatch again;
  again.set_session_id(session);
  for (const v1::Task& task : batch.tasks().tasks()) {
    *again.add_outcomes() = ResultFor(task);
  }
  const v1::ResultAck ack = SubmitOnce(again);
  ASSERT_EQ(ack.outcomes_size(), 2);
  EXPECT_EQ(ack.outcomes(0).verdict(), v1::VERDICT_DUPLICATE);
  EXPECT_EQ(ack.outcomes(1).verdict(), v1::VERDICT_ACCEPTED);
  EXPECT_EQ(SubmitOnce(again).outcomes(1).verdict(), v1::VERDICT_DUPLICATE);
  EXPECT_EQ(sink_->WaitForIds(1),
            std::vector<std::string>{batch.tasks().tasks(1).id()});
  context.TryCancel();
  master_.reset();
  std::remove(path.c_str());
}

// Returns the master's health as grpc.health.v1 reports it.
grpc::health::v1::HealthCheckResponse::ServingStatus Health(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status =
      stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

// Polls the master's health every 20 ms until it is `wanted`, for up to 10 s.
bool HealthBecomes(
    const std::shared_ptr<grpc::Channel>& channel,
    grpc::health::v1::HealthCheckResponse::ServingStatus wanted) {
  for (int i = 0; i < 500; ++i) {
    if (Health(channel) == wanted) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

TEST_F(MasterTest, HealthIsNotServingWhileTheJournalCannotCommit) {
  using grpc::health::v1::HealthCheckResponse;
  auto journal = std::make_unique<FakeJournal>();
  FakeJournal* fake = journal.get();
  StartMaster(std::move(journal));
  EXPECT_EQ(Health(channel_), HealthCheckResponse::SERVING);
  EnqueueIds(1);
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 1, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  fake->set_fail_commits(true);
  const v1::ResultBatch results = ResultsFor(session, batch);
  {
    grpc::ClientContext submit_context;
    auto submit = stub_->SubmitResults(&submit_context);
    ASSERT_TRUE(submit->Write(results));
    v1::ResultAck ack;
    EXPECT_FALSE(submit->Read(&ack)) << "acked an outcome not on disk";
    EXPECT_EQ(submit->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_TRUE(HealthBecomes(channel_, HealthCheckResponse::NOT_SERVING));
  fake->set_fail_commits(false);
  EXPECT_TRUE(HealthBecomes(channel_, HealthCheckResponse::SERVING));
  EXPECT_EQ(sink_->WaitForIds(1), std::vector<std::string>{"t0"});
  context.TryCancel();
}

TEST_F(MasterTest, DrainStopsLeasingAtOnceButTakesResults) {
  using grpc::health::v1::HealthCheckResponse;
  EnqueueIds(5);
  grpc::ClientContext context;
  std::string session;
  auto stream = Connect(&context, 1, &session);
  v1::TaskBatch batch;
  ASSERT_TRUE(stream->Read(&batch));
  ASSERT_EQ(batch.tasks().tasks_size(), 1);
  master_->Drain();
  EXPECT_EQ(Health(channel_), HealthCheckResponse::NOT_SERVING);
  v1::BatchRequest more;
  more.mutable_credit()->set_tasks(10);
  ASSERT_TRUE(stream->Write(more));
  v1::TaskBatch next;
  ASSERT_TRUE(stream->Read(&next));
  EXPECT_TRUE(next.has_drained()) << "4 tasks are pending, yet none is leased";
  EXPECT_EQ(SubmitOnce(ResultsFor(session, batch)).outcomes(0).verdict(),
            v1::VERDICT_ACCEPTED);
  EXPECT_EQ(sink_->WaitForIds(1),
            std::vector<std::string>{batch.tasks().tasks(0).id()});
  EXPECT_EQ(master_->queue().Counts().pending, 4u);
  context.TryCancel();
}

TEST_F(MasterTest, ReflectionListsItsServicesAndDescribesThem) {
  using distributo::test::reflection::ServerReflectionRequest;
  using distributo::test::reflection::ServerReflectionResponse;
  ServerReflectionRequest list;
  list.set_list_services("");
  ServerReflectionRequest describe;
  describe.set_file_containing_symbol("distributo.v1.Distributor");
  const RawCall call = CallWithRawBytes(
      channel_,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      {list.SerializeAsString(), describe.SerializeAsString()},
      /*read_replies=*/true);
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  ASSERT_EQ(call.replies.size(), 2u);
  ServerReflectionResponse listed;
  ASSERT_TRUE(listed.ParseFromString(call.replies[0]));
  std::vector<std::string> names;
  for (const auto& service : listed.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "distributo.v1.Distributor"),
            names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "grpc.health.v1.Health"),
            names.end());
  ServerReflectionResponse described;
  ASSERT_TRUE(described.ParseFromString(call.replies[1]));
  EXPECT_GT(described.file_descriptor_response().file_descriptor_proto_size(),
            0)
      << described.error_response().error_message();
}

}  // namespace
}  // namespace distributo::server
