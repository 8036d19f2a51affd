// Row 3 of the fault table (notes/reliability.md): a worker cut off by the
// network, with no FIN or RST, in a network namespace this test makes and
// joins to its own by a veth pair. Needs root, as CI is.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

// iproute2's ip, which ChildProcess starts by its path.
constexpr char kIp[] = "/usr/sbin/ip";

// A network namespace joined to this one by a veth pair: host_address() on
// this side, the namespace's end inside it. Deleted, with the pair, when
// destroyed. Names and addresses carry the test's PID (198.18.0.0/15 is
// kept for benchmarks, so no real network uses it).
class NetnsPeer {
 public:
  explicit NetnsPeer(std::string dir)
      : dir_(std::move(dir)),
        name_(absl::StrCat("dcut", getpid())),
        host_link_(absl::StrCat("dch", getpid())),
        peer_link_(absl::StrCat("dcp", getpid())),
        subnet_(absl::StrCat("198.18.", getpid() % 250, ".")) {
    ok_ =
        Run({kIp, "netns", "add", name_}) &&
        Run({kIp, "link", "add", host_link_, "type", "veth", "peer", "name",
             peer_link_}) &&
        Run({kIp, "link", "set", peer_link_, "netns", name_}) &&
        Run({kIp, "addr", "add", host_address() + "/30", "dev", host_link_}) &&
        Run({kIp, "link", "set", host_link_, "up"}) &&
        RunInside({kIp, "addr", "add", subnet_ + "2/30", "dev", peer_link_}) &&
        RunInside({kIp, "link", "set", peer_link_, "up"}) &&
        RunInside({kIp, "link", "set", "lo", "up"});
  }
  ~NetnsPeer() { Run({kIp, "netns", "delete", name_}); }

  bool ok() const { return ok_; }
  std::string host_address() const { return subnet_ + "1"; }
  // Runs a command inside the namespace when put before it.
  std::vector<std::string> Exec() const {
    return {kIp, "netns", "exec", name_};
  }

  // Takes the namespace's end of the link down: its packets go nowhere and
  // none reach it, and neither side is told.
  bool Cut() { return RunInside({kIp, "link", "set", peer_link_, "down"}); }
  bool Heal() { return RunInside({kIp, "link", "set", peer_link_, "up"}); }

 private:
  bool Run(const std::vector<std::string>& argv) {
    ChildProcess command(argv, absl::StrCat(dir_, "/ip-", runs_++, ".log"));
    const bool succeeded = command.WaitForExit(absl::Seconds(10)) == 0;
    EXPECT_TRUE(succeeded) << absl::StrJoin(argv, " ") << ": "
                           << ReadFile(command.log_path());
    return succeeded;
  }
  bool RunInside(std::vector<std::string> argv) {
    std::vector<std::string> inside = Exec();
    inside.insert(inside.end(), argv.begin(), argv.end());
    return Run(inside);
  }

  const std::string dir_;
  const std::string name_, host_link_, peer_link_, subnet_;
  int runs_ = 0;
  bool ok_ = false;
};

using NetworkCutTest = JobFixture;

TEST_F(NetworkCutTest, ACutOffWorkerLosesItsLeasesAndItsLateResultsAreRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  NetnsPeer peer(dir_);
  ASSERT_TRUE(peer.ok());
  WriteTasks(600, [](int) { return ", \"sleep\": 0.05"; });
  StartMaster({"--listen=" + peer.host_address(), "--insecure",
               "--lease_timeout=2s", "--batch_size=10"});
  const std::string master =
      absl::StrCat("--master=", peer.host_address(), ":", port_);
  ChildProcess* cut = StartWorker("lines", 4, {master}, peer.Exec());
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() >= 20; }, absl::Seconds(60)))
      << ReadFile(cut->log_path());
  ASSERT_TRUE(peer.Cut());
  const size_t at_cut = ResultLines();
  const absl::Time cut_at = absl::Now();
  StartWorker("lines", 2, {master});
  // Heal once the cut worker's leases have surely expired and gone to the
  // other, while the job still runs, so that its late results reach a live
  // master on the connection that was cut.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return absl::Now() - cut_at > absl::Seconds(4) &&
               ResultLines() >= at_cut + 40;
      },
      absl::Seconds(60)));
  ASSERT_LT(ResultLines(), 600u) << "the job ended before the cut healed";
  ASSERT_TRUE(peer.Heal());
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(master_->log_path());
  const ResultsLedger ledger = ReadLedger();
  ExpectEveryResultOnceAndCorrect(ledger);
  EXPECT_GT(ledger.released, 0)
      << "the cut worker's leases were never re-leased";
  EXPECT_NE(ReadFile(master_->log_path()).find("leases expired"),
            std::string::npos)
      << ReadFile(master_->log_path());
  for (auto& worker : workers_) {
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(60)), 0)
        << ReadFile(worker->log_path());
  }
  EXPECT_GT(RefusedOutcomes(ReadFile(cut->log_path())), 0)
      << "its late results were not refused as duplicates: "
      << ReadFile(cut->log_path());
}

}  // namespace
}  // namespace distributo::testing
