// TLS, mutual TLS, worker tokens and the plaintext rule, with real
// processes and certificates made by `distributo certs init`.
#include <httplib.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/job_fixture.h"

namespace distributo::testing {
namespace {

class SecurityTest : public JobFixture {
 protected:
  void SetUp() override {
    JobFixture::SetUp();
    certs_ = Path("certs");
    const std::string command =
        absl::StrCat(DISTRIBUTO_CLI_BIN, " certs init ", certs_, " >",
                     Path("certs.log"), " 2>&1");
    ASSERT_EQ(std::system(command.c_str()), 0) << ReadFile(Path("certs.log"));
  }

  std::string Cert(const std::string& name) const {
    return absl::StrCat(certs_, "/", name);
  }

  std::vector<std::string> MasterTls() const {
    return {"--tls_cert=" + Cert("master.pem"),
            "--tls_key=" + Cert("master.key")};
  }

  void ExpectStoppedBySigterm(ChildProcess* worker) {
    worker->Signal(SIGTERM);
    EXPECT_EQ(worker->WaitForExit(absl::Seconds(10)), 128 + SIGTERM);
  }

  std::string certs_;
};

TEST_F(SecurityTest, CertsInitRefusesBadNamesAndDaysAndLeavesNoFile) {
  const std::string dir = Path("refused-certs");
  const std::string log = Path("refused.log");
  for (const auto& [flag, why] :
       {std::pair{"--master_hosts=master.example,,10.0.0.1",
                  "\"\" is neither an IP address nor a DNS name"},
        std::pair{"--master_hosts=bad_name!",
                  "\"bad_name!\" is neither an IP address nor a DNS name"},
        std::pair{"--master_hosts=10.0.0.1:8443",
                  "\"10.0.0.1:8443\" is neither an IP address nor a DNS name"},
        std::pair{"--days=3651", "--days must be between 1 and 3650"}}) {
    EXPECT_NE(std::system(absl::StrCat(DISTRIBUTO_CLI_BIN, " certs init ", dir,
                                       " ", flag, " >", log, " 2>&1")
                              .c_str()),
              0)
        << flag;
    EXPECT_TRUE(absl::StrContains(ReadFile(log), why)) << ReadFile(log);
    EXPECT_FALSE(std::filesystem::exists(dir + "/ca.pem")) << flag;
  }
}

TEST_F(SecurityTest, TlsJobCompletesAndAPlaintextWorkerGetsNothing) {
  WriteTasks(200);
  StartMaster(MasterTls());
  ChildProcess* plaintext = StartWorker("lines", 1);
  ChildProcess* tls = StartWorker("lines", 2, {"--tls_ca=" + Cert("ca.pem")});
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(tls->log_path());
  EXPECT_EQ(tls->WaitForExit(absl::Seconds(30)), 0);
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  EXPECT_EQ(ReadFile(plaintext->log_path()).find("started session"),
            std::string::npos)
      << "a plaintext worker was served by a TLS master";
  ExpectStoppedBySigterm(plaintext);
}

TEST_F(SecurityTest, TheHttpPortIsHttpsAndItsDataTakesAnOperatorsToken) {
  WriteTasks(10);
  std::ofstream(Path("workers")) << "s3cret-token-of-alice alice\n";
  std::ofstream(Path("operators")) << "s3cret-token-of-oscar oscar\n";
  std::vector<std::string> flags = MasterTls();
  flags.insert(flags.end(),
               {"--tokens=" + Path("workers"),
                "--operator_tokens=" + Path("operators"), "--http_port=0"});
  StartMaster(flags);
  const std::regex line("status page at https://127\\.0\\.0\\.1:([0-9]+)/");
  std::smatch match;
  const std::string log = ReadFile(master_->log_path());
  ASSERT_TRUE(std::regex_search(log, match, line)) << log;
  const int port = std::stoi(match[1].str());
  httplib::SSLClient https("127.0.0.1", port);
  https.set_ca_cert_path(Cert("ca.pem").c_str());
  https.enable_server_certificate_verification(true);
  https.set_read_timeout(10, 0);
  // Returns the status of GET `path` with `token` ("": none).
  auto get = [&](const std::string& path, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto response = https.Get(path.c_str(), headers);
    return response ? response->status : -1;
  };
  EXPECT_EQ(get("/healthz", ""), 200) << "probes need no token";
  EXPECT_EQ(get("/", ""), 200) << "the page holds no data";
  EXPECT_EQ(get("/metrics", ""), 401);
  EXPECT_EQ(get("/api/status", "s3cret-token-of-alice"), 403);
  EXPECT_EQ(get("/metrics", "s3cret-token-of-oscar"), 200);
  EXPECT_EQ(get("/api/status", "s3cret-token-of-oscar"), 200);
  httplib::Client plaintext("127.0.0.1", port);
  plaintext.set_read_timeout(5, 0);
  auto response = plaintext.Get("/healthz");
  EXPECT_TRUE(!response || response->status != 200)
      << "the HTTP port answered plaintext";
}

TEST_F(SecurityTest, MutualTlsRefusesAWorkerWithoutACertificate) {
  WriteTasks(100);
  std::vector<std::string> flags = MasterTls();
  flags.push_back("--tls_ca=" + Cert("ca.pem"));
  flags.push_back("--require_client_cert");
  StartMaster(flags);
  ChildProcess* anonymous =
      StartWorker("lines", 1, {"--tls_ca=" + Cert("ca.pem")});
  EXPECT_TRUE(RetriedWith(*anonymous, "retrying in"))
      << ReadFile(anonymous->log_path());
  EXPECT_EQ(ResultLines(), 0u);
  ExpectStoppedBySigterm(anonymous);
  ChildProcess* known = StartWorker(
      "lines", 2,
      {"--tls_ca=" + Cert("ca.pem"), "--tls_cert=" + Cert("worker.pem"),
       "--tls_key=" + Cert("worker.key")});
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(known->log_path());
  EXPECT_EQ(known->WaitForExit(absl::Seconds(30)), 0);
  ExpectEveryResultOnceAndCorrect(ReadLedger());
}

TEST_F(SecurityTest, MutualTlsRefusesAnUntrustedAndAnExpiredCertificate) {
  WriteTasks(20);
  std::vector<std::string> flags = MasterTls();
  flags.push_back("--tls_ca=" + Cert("ca.pem"));
  flags.push_back("--require_client_cert");
  StartMaster(flags);
  // A worker certificate of another CA, and one of ours that expired
  // yesterday (openssl's -days -1).
  const std::string other = Path("other-certs");
  const std::string expired = Path("expired");
  ASSERT_EQ(
      std::system(
          absl::StrCat(
              DISTRIBUTO_CLI_BIN, " certs init ", other, " >",
              Path("other.log"),
              " 2>&1 && openssl req -new -newkey ec "
              "-pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=old -keyout ",
              expired, ".key -out ", expired, ".csr >>", Path("other.log"),
              " 2>&1 && openssl x509 -req -days -1 -in ", expired, ".csr -CA ",
              Cert("ca.pem"), " -CAkey ", Cert("ca.key"), " -out ", expired,
              ".pem >>", Path("other.log"), " 2>&1")
              .c_str()),
      0)
      << ReadFile(Path("other.log"));
  for (const auto& [cert, key] :
       {std::pair{other + "/worker.pem", other + "/worker.key"},
        std::pair{expired + ".pem", expired + ".key"}}) {
    ChildProcess* refused =
        StartWorker("lines", 1,
                    {"--tls_ca=" + Cert("ca.pem"), "--tls_cert=" + cert,
                     "--tls_key=" + key});
    // It keeps retrying, with backoff, and never gets a session.
    EXPECT_TRUE(RetriedWith(*refused, "retrying in"))
        << ReadFile(refused->log_path());
    EXPECT_EQ(ReadFile(refused->log_path()).find("started session"),
              std::string::npos)
        << cert << " was let in: " << ReadFile(refused->log_path());
    ExpectStoppedBySigterm(refused);
  }
  EXPECT_EQ(ResultLines(), 0u);
}

TEST_F(SecurityTest, TokensRefuseStrangersAndNameTheWorker) {
  WriteTasks(100);
  std::ofstream(Path("tokens")) << "# token name\n"
                                << "s3cret-token-of-alice alice\n"
                                << "s3cret-token-of-bobby bob\n";
  StartMaster({"--tokens=" + Path("tokens")});
  ChildProcess* none = StartWorker("lines", 1);
  ChildProcess* wrong =
      StartWorker("lines", 1, {"--token=not-a-token-of-anyone"});
  EXPECT_EQ(none->WaitForExit(absl::Seconds(30)), 1);
  EXPECT_EQ(wrong->WaitForExit(absl::Seconds(30)), 1);
  EXPECT_TRUE(absl::StrContains(ReadFile(none->log_path()),
                                "this master needs a token"));
  EXPECT_TRUE(absl::StrContains(ReadFile(wrong->log_path()), "unknown token"));
  EXPECT_EQ(ResultLines(), 0u);
  ChildProcess* alice =
      StartWorker("lines", 2, {"--token=s3cret-token-of-alice"});
  EXPECT_EQ(WaitForMaster(), 0) << ReadFile(alice->log_path());
  EXPECT_EQ(alice->WaitForExit(absl::Seconds(30)), 0);
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  EXPECT_TRUE(
      absl::StrContains(ReadFile(master_->log_path()), "Worker alice/worker-2"))
      << ReadFile(master_->log_path());
}

TEST_F(SecurityTest, WorkersPastTheCapAreToldToRetryLater) {
  // Slow tasks keep the first worker's stream open while the second tries.
  WriteTasks(20, [](int) { return ", \"sleep\": 0.05"; });
  StartMaster({"--max_workers=1"});
  ChildProcess* first = StartWorker("lines", 1);
  ASSERT_TRUE(WaitUntil([&] { return ResultLines() > 0; }, absl::Seconds(30)));
  ChildProcess* second = StartWorker("lines", 1);
  EXPECT_TRUE(RetriedWith(*second, "serves at most 1 workers at once"))
      << ReadFile(second->log_path());
  EXPECT_EQ(WaitForMaster(), 0);
  EXPECT_EQ(first->WaitForExit(absl::Seconds(30)), 0);
  ExpectEveryResultOnceAndCorrect(ReadLedger());
  ExpectStoppedBySigterm(second);
}

TEST_F(SecurityTest, WorkerRefusesToSendATokenOrTrustDiscoveryInClear) {
  ChildProcess* token = StartWorker(
      "lines", 1, {"--master=192.0.2.1:4000", "--token=s3cret-token-of-alice"});
  ChildProcess* discovered =
      StartWorker("lines", 1,
                  {"--master=mdns", "--tls_cert=" + Cert("worker.pem"),
                   "--tls_key=" + Cert("worker.key")});
  EXPECT_EQ(token->WaitForExit(absl::Seconds(10)), 2);
  EXPECT_TRUE(absl::StrContains(ReadFile(token->log_path()),
                                "the token would cross the network in clear"));
  EXPECT_EQ(discovered->WaitForExit(absl::Seconds(10)), 2);
  EXPECT_TRUE(absl::StrContains(ReadFile(discovered->log_path()),
                                "TLS to a discovered master needs --tls_ca"));
}

TEST_F(SecurityTest, PlaintextOnANonLoopbackAddressNeedsInsecure) {
  WriteTasks(1);
  master_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{DISTRIBUTO_MASTER_BIN, "--listen=0.0.0.0",
                               "--port=0", "--tasks=" + Path("tasks.jsonl"),
                               "--results=" + Path("results.jsonl")},
      Path("refused.log"));
  EXPECT_EQ(master_->WaitForExit(absl::Seconds(30)), 2);
  const std::string log = ReadFile(Path("refused.log"));
  EXPECT_TRUE(absl::StrContains(log, "refusing to serve plaintext on 0.0.0.0"))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "--insecure")) << log;
  EXPECT_FALSE(std::filesystem::exists(Path("results.jsonl.journal")))
      << "a refused master must leave no journal behind";
}

}  // namespace
}  // namespace distributo::testing
