// Jobs whose workers find their masters by DNS-SD, served by a real DNS
// server (dnsmasq): SRV priorities, failover when a master dies, and the
// errors a worker gives for names that do not resolve.
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/dnsmasq_server.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

constexpr const char* kService = kTestService;

// DNS-SD records for a master on 127.0.0.1:`port` named `name`.
std::vector<std::string> MasterRecords(const std::string& name, int port,
                                       int priority) {
  return DnsSdRecords(name, port, priority, "txtvers=1,proto=distributo.v1");
}

class DiscoveryJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!DnsmasqServer::Available()) GTEST_SKIP() << "dnsmasq not installed";
    dir_ = FreshTestDir();
  }

  // Makes `name` under the test's directory and returns its path.
  std::string Subdir(const std::string& name) {
    const std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_EQ(mkdir(path.c_str(), 0755), 0);
    return path;
  }

  std::vector<std::string> DnsSdFlags(const DnsmasqServer& dns) {
    return {absl::StrCat("--master=dns-sd:", kService),
            "--dns_server=" + dns.address()};
  }

  std::string dir_;
};

TEST_F(DiscoveryJobTest, WorkersPreferLowerPriorityAndFailOverWhenItDies) {
  TestJob preferred(Subdir("preferred"));
  TestJob backup(Subdir("backup"));
  // Slow enough that the preferred job is still running when it is killed.
  preferred.WriteTasks(600, [](int) { return ", \"sleep\": 0.02"; });
  backup.WriteTasks(200);
  preferred.StartMaster();
  backup.StartMaster();
  std::vector<std::string> records =
      MasterRecords("preferred", preferred.port(), 10);
  for (std::string& record : MasterRecords("backup", backup.port(), 20)) {
    records.push_back(std::move(record));
  }
  auto dns = DnsmasqServer::Start(records, dir_ + "/dnsmasq.log");
  ASSERT_NE(dns, nullptr);
  std::vector<ChildProcess*> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(preferred.StartWorker("lines", 2, DnsSdFlags(*dns)));
  }

  ASSERT_TRUE(WaitUntil([&] { return preferred.ResultLines() >= 100; },
                        absl::Seconds(60)))
      << ReadFile(workers[0]->log_path());
  EXPECT_EQ(backup.ResultLines(), 0u) << "a worker skipped the preferred one";
  preferred.master().Signal(SIGKILL);
  ASSERT_TRUE(preferred.master().WaitForExit(absl::Seconds(10)).has_value());

  // Every worker fails over to the backup and finishes its job.
  EXPECT_EQ(backup.WaitForMaster(), 0);
  for (ChildProcess* worker : workers) {
    EXPECT_EQ(worker->WaitForExit(TestJob::kJobTimeout), 0)
        << ReadFile(worker->log_path());
    const std::string log = ReadFile(worker->log_path());
    EXPECT_TRUE(
        absl::StrContains(log, "(backup._distributo._tcp.example.test"));
    // What it held of the other job is dropped, not sent to the backup.
    EXPECT_TRUE(absl::StrContains(log, "of the old job")) << log;
  }
  backup.ExpectEveryResultOnceAndCorrect(backup.ReadLedger());

  // The preferred master comes back on its journal, and a worker finds it
  // first again: its job ends with nothing lost.
  preferred.StartMaster();
  ChildProcess* late = preferred.StartWorker("lines", 4, DnsSdFlags(*dns));
  EXPECT_EQ(preferred.WaitForMaster(), 0) << ReadFile(late->log_path());
  EXPECT_EQ(late->WaitForExit(TestJob::kJobTimeout), 0);
  preferred.ExpectEveryResultOnceAndCorrect(preferred.ReadLedger());
}

TEST_F(DiscoveryJobTest, TlsChecksADiscoveredMasterAgainstItsPublishedName) {
  // The certificate names m1.example.test, not m2.example.test.
  const std::string certs = absl::StrCat(dir_, "/certs");
  ASSERT_EQ(std::system(absl::StrCat(DISTRIBUTO_CLI_BIN, " certs init ", certs,
                                     " --master_hosts=m1.example.test >", dir_,
                                     "/certs.log 2>&1")
                            .c_str()),
            0);
  TestJob job(Subdir("job"));
  job.WriteTasks(50);
  job.StartMaster({"--tls_cert=" + certs + "/master.pem",
                   "--tls_key=" + certs + "/master.key"});
  std::vector<std::string> records = MasterRecords("m1", job.port(), 10);
  for (std::string& record : MasterRecords("m2", job.port(), 10)) {
    records.push_back(std::move(record));
  }
  auto dns = DnsmasqServer::Start(records, dir_ + "/dnsmasq.log");
  ASSERT_NE(dns, nullptr);
  const std::vector<std::string> tls = {"--tls_ca=" + certs + "/ca.pem"};
  // Published as m2 only: the same master, but not the name it proves.
  std::vector<std::string> as_m2 = tls;
  as_m2.push_back(
      absl::StrCat("--master=srv:m2._distributo._tcp.", "example.test"));
  as_m2.push_back("--dns_server=" + dns->address());
  ChildProcess* impostor_view = job.StartWorker("lines", 1, as_m2);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return absl::StrContains(
            ReadFile(impostor_view->log_path()),
            "Peer name m2.example.test is not in peer certificate");
      },
      absl::Seconds(30)));
  EXPECT_EQ(job.ResultLines(), 0u) << "a name the certificate lacks passed";
  impostor_view->Signal(SIGTERM);
  EXPECT_EQ(impostor_view->WaitForExit(absl::Seconds(10)), 128 + SIGTERM);
  std::vector<std::string> as_m1 = tls;
  as_m1.push_back(
      absl::StrCat("--master=srv:m1._distributo._tcp.", "example.test"));
  as_m1.push_back("--dns_server=" + dns->address());
  ChildProcess* worker = job.StartWorker("lines", 2, as_m1);
  EXPECT_EQ(job.WaitForMaster(), 0) << ReadFile(worker->log_path());
  EXPECT_EQ(worker->WaitForExit(TestJob::kJobTimeout), 0);
  job.ExpectEveryResultOnceAndCorrect(job.ReadLedger());
}

TEST_F(DiscoveryJobTest, UnresolvableMasterIsRetriedWithAClearError) {
  TestJob job(dir_);
  auto dns = DnsmasqServer::Start({}, dir_ + "/dnsmasq.log");
  ASSERT_NE(dns, nullptr);
  ChildProcess* nxdomain =
      job.StartWorker("lines", 1,
                      {"--master=dns-sd:_distributo._tcp.missing.example.test",
                       "--dns_server=" + dns->address()});
  ChildProcess* dead_server =
      job.StartWorker("lines", 1,
                      {"--master=srv:_grpc._tcp.example.test",
                       absl::StrCat("--dns_server=127.0.0.1:", FreeUdpPort())});

  EXPECT_TRUE(RetriedWith(*nxdomain,
                          "PTR _distributo._tcp.missing.example.test at "
                          "127.0.0.1"))
      << ReadFile(nxdomain->log_path());
  EXPECT_TRUE(absl::StrContains(ReadFile(nxdomain->log_path()), "NXDOMAIN"));
  EXPECT_TRUE(RetriedWith(*dead_server, "Could not contact DNS servers"))
      << ReadFile(dead_server->log_path());
  for (ChildProcess* worker : {nxdomain, dead_server}) {
    worker->Signal(SIGTERM);
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(10)), 128 + SIGTERM);
  }
}

TEST_F(DiscoveryJobTest, MalformedMasterFormIsAUsageError) {
  TestJob job(dir_);
  ChildProcess* worker =
      job.StartWorker("lines", 1, {"--master=mdns:not a service type"});
  EXPECT_EQ(worker->WaitForExit(absl::Seconds(10)), 2);
  EXPECT_TRUE(absl::StrContains(ReadFile(worker->log_path()),
                                "expected a service type like"));
}

}  // namespace
}  // namespace distributo::testing
