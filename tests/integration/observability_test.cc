// The master's HTTP port against a real job: /metrics read by Prometheus'
// own parser, and the status page in a real browser (headless chromium).
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

constexpr char kChromium[] = "/usr/bin/chromium";

class ObservabilityTest : public JobFixture {
 protected:
  // Starts the master with its HTTP port and returns that port, read from
  // the line it logs.
  int StartMasterWithHttp(std::vector<std::string> flags) {
    flags.push_back("--http_port=0");
    StartMaster(flags);
    const std::regex line("status page at http://127\\.0\\.0\\.1:([0-9]+)/");
    std::smatch match;
    const std::string log = ReadFile(master_->log_path());
    int port = 0;
    if (std::regex_search(log, match, line)) {
      EXPECT_TRUE(absl::SimpleAtoi(match[1].str(), &port));
    }
    EXPECT_GT(port, 0) << log;
    return port;
  }

  static std::string Get(int port, const std::string& path, int* code) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10, 0);
    auto response = client.Get(path.c_str());
    *code = response ? response->status : -1;
    return response ? response->body : "";
  }

  // Runs headless chromium on the page (with `fragment`, e.g. "#token=T")
  // with `args` (e.g. --dump-dom) and returns its stdout.
  std::string Chromium(int port, const std::string& args,
                       const std::string& fragment = "") {
    const std::string out = Path("chromium.out");
    const std::string command = absl::StrCat(
        "timeout 60 ", kChromium,
        " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
        "--virtual-time-budget=3000 ",
        args, " 'http://127.0.0.1:", port, "/", fragment, "' >", out, " 2>>",
        Path("chromium.log"));
    EXPECT_EQ(std::system(command.c_str()), 0)
        << ReadFile(Path("chromium.log"));
    return ReadFile(out);
  }
};

TEST_F(ObservabilityTest, MetricsMatchAKnownJobAndParse) {
  // 20 tasks: t0 and t10 always fail (dead after 2 attempts), t1 and t11
  // fail once, the rest succeed at once.
  WriteTasks(20, [](int i) {
    return i % 10 == 0   ? ", \"fail\": \"always\""
           : i % 10 == 1 ? ", \"fail\": \"first\""
                         : "";
  });
  const int http = StartMasterWithHttp(
      {"--max_attempts=2", "--retry_backoff=20ms", "--linger=60s"});
  // per_task: DISTRIBUTO_ATTEMPT is set per process.
  StartWorker("per_task", 2);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return absl::StrContains(ReadFile(master_->log_path()), "stays up");
      },
      kJobTimeout))
      << ReadFile(master_->log_path());
  int code = 0;
  const std::string metrics = Get(http, "/metrics", &code);
  ASSERT_EQ(code, 200);
  std::ofstream(Path("metrics.txt")) << metrics;
  const std::vector<std::string> expected = {
      "distributo_tasks:state=done=18",
      "distributo_tasks:state=dead=2",
      "distributo_tasks:state=pending=0",
      "distributo_tasks_enqueued_total=20",
      "distributo_tasks_completed_total=18",
      "distributo_tasks_dead_total=2",
      "distributo_task_failures_total=6",  // 2 x 2 + 2 x 1
      "distributo_tasks_dispatched_total=24",
      "distributo_duplicate_results_total=0",
      "distributo_task_duration_seconds_count=24",
      "distributo_schedule_to_start_seconds_count=24",
      "distributo_grpc_streams_started_total:rpc=RequestBatch=1"};
  // Debian's python3, where python3-prometheus-client is installed.
  const std::string check = absl::StrCat(
      "/usr/bin/python3 ", DISTRIBUTO_CHECK_METRICS, " ", Path("metrics.txt"),
      " ", absl::StrJoin(expected, " "), " >", Path("check.log"), " 2>&1");
  EXPECT_EQ(std::system(check.c_str()), 0) << ReadFile(Path("check.log"));
  EXPECT_EQ(Get(http, "/healthz", &code), "ok\n");
  EXPECT_EQ(code, 200);
  master_->Signal(SIGTERM);
  EXPECT_EQ(WaitForMaster(), 1) << "dead tasks make the exit status 1";
}

TEST_F(ObservabilityTest, StatusPageInABrowserShowsTheMastersCounts) {
  if (access(kChromium, X_OK) != 0) GTEST_SKIP() << "chromium not installed";
  // Long tasks keep the state still while the browser looks.
  WriteTasks(6, [](int) { return ", \"sleep\": 60"; });
  const int http = StartMasterWithHttp({});
  // One task each, none queued behind it.
  StartWorker("lines", 1, {"--prefetch=1"});
  StartWorker("lines", 1, {"--prefetch=1"});
  int code = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        return absl::StrContains(Get(http, "/api/status", &code),
                                 "\"leased\":2");
      },
      absl::Seconds(30)));
  const std::string dom = Chromium(http, "--dump-dom");
  EXPECT_TRUE(absl::StrContains(dom, "id=\"total\">6<")) << dom;
  EXPECT_TRUE(absl::StrContains(dom, "id=\"leased\">2<")) << dom;
  EXPECT_TRUE(absl::StrContains(dom, "id=\"pending\">4<")) << dom;
  EXPECT_TRUE(absl::StrContains(dom, "id=\"workers-count\">2<")) << dom;
  EXPECT_TRUE(absl::StrContains(dom, "<td>worker-0</td>")) << dom;
  EXPECT_TRUE(absl::StrContains(dom, "<td>worker-1</td>")) << dom;
  EXPECT_TRUE(absl::StrContains(dom, ">serving<")) << dom;
  // Kept with the test's files, for a human to look at.
  Chromium(http, absl::StrCat("--window-size=1000,800 --screenshot=",
                              Path("status_page.png")));
  EXPECT_GT(ReadFile(Path("status_page.png")).size(), 1000u);
}

TEST_F(ObservabilityTest, StatusPageWithTokensShowsDataOnlyToAnOperator) {
  if (access(kChromium, X_OK) != 0) GTEST_SKIP() << "chromium not installed";
  WriteTasks(3);
  std::ofstream(Path("workers")) << "s3cret-token-of-alice alice\n";
  std::ofstream(Path("operators")) << "s3cret-token-of-oscar oscar\n";
  const int http =
      StartMasterWithHttp({"--tokens=" + Path("workers"),
                           "--operator_tokens=" + Path("operators")});
  const std::string shown =
      Chromium(http, "--dump-dom", "#token=s3cret-token-of-oscar");
  EXPECT_TRUE(absl::StrContains(shown, "id=\"total\">3<")) << shown;
  const std::string refused = Chromium(http, "--dump-dom");
  EXPECT_TRUE(absl::StrContains(refused, "this master needs a token"))
      << refused;
  EXPECT_FALSE(absl::StrContains(refused, "id=\"total\">3<")) << refused;
}

}  // namespace
}  // namespace distributo::testing
