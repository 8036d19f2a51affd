// distributo.v1.Admin on a real master (127.0.0.1:0) over a real channel.
#include "server/admin_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "distributo/v1/admin.grpc.pb.h"
#include "gtest/gtest.h"
#include "rpc/json_value.h"
#include "server/journal.h"
#include "server/master.h"
#include "server/result_sink.h"

namespace distributo::server {
namespace {

// Keeps nothing: this test looks at the queue, not the results.
class NullSink : public ResultSink {
 public:
  absl::Status Write(const std::vector<FinishedTask>&) override {
    return absl::OkStatus();
  }
};

v1::Task Task(const std::string& id) {
  v1::Task task;
  task.set_id(id);
  *task.mutable_payload() = *JsonToAny("1");
  return task;
}

class AdminServiceTest : public testing::Test {
 protected:
  // A service master: it takes tasks over the admin API.
  static MasterOptions Options() {
    MasterOptions options;
    options.admin_enqueue = true;
    return options;
  }

  void SetUp() override {
    auto master = Master::Create(Options(), std::make_unique<InMemoryJournal>(),
                                 std::make_unique<NullSink>());
    ASSERT_TRUE(master.ok()) << master.status();
    master_ = *std::move(master);
    stub_ = v1::Admin::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", master_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  grpc::Status Enqueue(const std::vector<v1::Task>& tasks,
                       v1::EnqueueResponse* response) {
    v1::EnqueueRequest request;
    for (const v1::Task& task : tasks) *request.add_tasks() = task;
    grpc::ClientContext context;
    return stub_->Enqueue(&context, request, response);
  }

  std::unique_ptr<Master> master_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

TEST_F(AdminServiceTest, EnqueueGivesAVerdictPerTaskInOrder) {
  v1::EnqueueResponse first;
  ASSERT_TRUE(Enqueue({Task("a")}, &first).ok());
  v1::Task no_payload = Task("c");
  no_payload.clear_payload();
  v1::EnqueueResponse response;
  ASSERT_TRUE(Enqueue({Task("a"), Task("b"), Task(""), no_payload, Task("b")},
                      &response)
                  .ok());
  ASSERT_EQ(response.verdicts_size(), 5);
  EXPECT_EQ(response.verdicts(0).outcome(), v1::ENQUEUE_OUTCOME_ALREADY_KNOWN);
  EXPECT_EQ(response.verdicts(1).outcome(), v1::ENQUEUE_OUTCOME_ADDED);
  EXPECT_EQ(response.verdicts(2).outcome(), v1::ENQUEUE_OUTCOME_INVALID);
  EXPECT_EQ(response.verdicts(2).message(), "the task has no id");
  EXPECT_EQ(response.verdicts(3).outcome(), v1::ENQUEUE_OUTCOME_INVALID);
  EXPECT_EQ(response.verdicts(4).outcome(), v1::ENQUEUE_OUTCOME_INVALID);
  EXPECT_EQ(response.added(), 1u);
  EXPECT_EQ(master_->queue().Counts().total, 2u);
}

TEST_F(AdminServiceTest, EnqueueOverTheLimitOrWhileDrainingIsRefused) {
  std::vector<v1::Task> many;
  for (size_t i = 0; i <= AdminService::kMaxTasksPerRequest; ++i) {
    many.push_back(Task(absl::StrCat(i)));
  }
  v1::EnqueueResponse response;
  EXPECT_EQ(Enqueue(many, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext context;
  v1::DrainResponse drained;
  ASSERT_TRUE(stub_->Drain(&context, v1::DrainRequest(), &drained).ok());
  EXPECT_TRUE(master_->draining());
  EXPECT_EQ(Enqueue({Task("late")}, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(master_->queue().Counts().total, 0u);
}

TEST_F(AdminServiceTest, GetStatusCountsTheQueue) {
  v1::EnqueueResponse added;
  ASSERT_TRUE(Enqueue({Task("a"), Task("b"), Task("c")}, &added).ok());
  grpc::ClientContext context;
  v1::GetStatusResponse status;
  ASSERT_TRUE(stub_->GetStatus(&context, v1::GetStatusRequest(), &status).ok());
  EXPECT_EQ(status.total(), 3u);
  EXPECT_EQ(status.pending(), 3u);
  EXPECT_TRUE(status.serving());
  EXPECT_FALSE(status.complete());
}

TEST_F(AdminServiceTest, ListDeadPagesThroughTheDeadInOrder) {
  v1::EnqueueResponse added;
  ASSERT_TRUE(Enqueue({Task("a"), Task("b"), Task("c")}, &added).ok());
  for (const char* id : {"c", "a", "b"}) {
    ASSERT_TRUE(master_->Cancel(id, absl::StrCat("no ", id)).ok());
  }
  v1::ListDeadRequest request;
  request.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 3; ++page) {
    grpc::ClientContext context;
    v1::ListDeadResponse response;
    ASSERT_TRUE(stub_->ListDead(&context, request, &response).ok());
    for (const v1::DeadTask& task : response.tasks()) {
      EXPECT_EQ(task.code(), "cancelled");
      EXPECT_EQ(task.message(), "no " + task.task_id());
      seen.push_back(task.task_id());
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"c", "a", "b"}));
}

}  // namespace
}  // namespace distributo::server
