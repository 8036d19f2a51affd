#include "cli/certificates.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace distributo::cli {
namespace {

constexpr int kCaDays = 3650;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL: cannot ", what));
}

bool IsIpAddress(const std::string& name) {
  unsigned char address[16];
  return inet_pton(AF_INET, name.c_str(), address) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// Returns whether `name` is a DNS name a certificate may carry: labels of
// letters, digits and hyphens (not first), the first may be "*".
bool IsDnsName(absl::string_view name) {
  if (absl::StartsWith(name, "*.")) name.remove_prefix(2);
  if (name.empty()) return false;
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.front() == '-' ||
        label.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
            absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// The subject alternative names of the master's certificate.
std::string MasterNames(const std::vector<std::string>& extra) {
  std::vector<std::string> names = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') {
    names.push_back(absl::StrCat("DNS:", host));
  }
  for (const std::string& name : extra) {
    names.push_back(absl::StrCat(IsIpAddress(name) ? "IP:" : "DNS:", name));
  }
  return absl::StrJoin(names, ",");
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid,
                          const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension =
      X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) return OpenSslError(absl::StrCat("add ", value));
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  return added == 1 ? absl::OkStatus() : OpenSslError("add an extension");
}

// A certificate for `key` named `common_name`, valid for `days`; issued by
// itself when `issuer` is null.
absl::StatusOr<Cert> NewCertificate(EVP_PKEY* key, const std::string& name,
                                    int days, X509* issuer) {
  Cert cert(X509_new());
  unsigned char serial[16];
  if (cert == nullptr || RAND_bytes(serial, sizeof(serial)) != 1) {
    return OpenSslError("make a certificate");
  }
  serial[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof(serial), nullptr);
  const bool serial_set =
      number != nullptr &&
      BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(number);
  if (!serial_set || X509_set_version(cert.get(), 2) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * days) ==
          nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("fill in a certificate");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      subject, "O", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>("Distributo"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(
      subject, "CN", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(
      cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : subject);
  return cert;
}

absl::Status Sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
    return OpenSslError("sign a certificate");
  }
  return absl::OkStatus();
}

// The files one InitCertificates() made, removed unless it got to the end:
// a run that fails half-way (a full disk) must not leave files that make
// the next run refuse to overwrite them.
class MadeFiles {
 public:
  MadeFiles() = default;
  MadeFiles(const MadeFiles&) = delete;
  MadeFiles& operator=(const MadeFiles&) = delete;
  ~MadeFiles() {
    if (kept_) return;
    for (const std::string& path : paths_) {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  }

  void Add(std::string path) { paths_.push_back(std::move(path)); }
  void Keep() { kept_ = true; }

 private:
  std::vector<std::string> paths_;
  bool kept_ = false;
};

absl::Status WritePem(const std::string& path, X509* cert, EVP_PKEY* key,
                      MadeFiles* made) {
  // Keys are created owner-only from the start, not chmod-ed after.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                      key != nullptr ? 0600 : 0644);
  if (fd < 0) {
    return errno == EEXIST
               ? absl::AlreadyExistsError(absl::StrCat(
                     path, " exists: certs init overwrites nothing"))
               : absl::PermissionDeniedError(
                     absl::StrCat("cannot write ", path));
  }
  made->Add(path);
  Bio bio(BIO_new_fd(fd, BIO_CLOSE));
  if (bio == nullptr) {
    close(fd);
    return OpenSslError(absl::StrCat("write ", path));
  }
  const int written =
      key != nullptr ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr,
                                                nullptr, 0, nullptr, nullptr)
                     : PEM_write_bio_X509(bio.get(), cert);
  if (written != 1) return OpenSslError(absl::StrCat("write ", path));
  return absl::OkStatus();
}

// Issues a key and certificate `name` from the CA and writes them.
absl::Status Issue(const std::string& dir, const std::string& name,
                   const std::string& usage, const std::string& names, int days,
                   X509* ca, EVP_PKEY* ca_key, MadeFiles* made) {
  Key key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError("make a key");
  auto cert =
      NewCertificate(key.get(), absl::StrCat("distributo-", name), days, ca);
  if (!cert.ok()) return cert.status();
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
        std::pair{NID_key_usage, std::string("critical,digitalSignature")},
        std::pair{NID_ext_key_usage, usage}}) {
    if (absl::Status s = AddExtension(cert->get(), ca, nid, value); !s.ok()) {
      return s;
    }
  }
  if (!names.empty()) {
    if (absl::Status s =
            AddExtension(cert->get(), ca, NID_subject_alt_name, names);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = Sign(cert->get(), ca_key); !s.ok()) return s;
  if (absl::Status s = WritePem(absl::StrCat(dir, "/", name, ".pem"),
                                cert->get(), nullptr, made);
      !s.ok()) {
    return s;
  }
  return WritePem(absl::StrCat(dir, "/", name, ".key"), nullptr, key.get(),
                  made);
}

// Returns InvalidArgument, before anything is made, for days out of range
// (past the CA's own life) or a master host that is neither an address nor
// a DNS name.
absl::Status CheckRequest(const CertificateRequest& request) {
  if (request.days < 1 || request.days > kCaDays) {
    return absl::InvalidArgumentError(
        absl::StrCat("--days must be between 1 and ", kCaDays,
                     " (the CA's validity), not ", request.days));
  }
  for (const std::string& host : request.master_hosts) {
    if (!IsIpAddress(host) && !IsDnsName(host)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--master_hosts: \"", host,
                       "\" is neither an IP address nor a DNS name"));
    }
  }
  return absl::OkStatus();
}

// Returns AlreadyExists if `dir` holds any file certs init would write.
absl::Status CheckNoneExists(const std::string& dir) {
  for (const char* name : {"ca.pem", "ca.key", "master.pem", "master.key",
                           "worker.pem", "worker.key"}) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (std::filesystem::exists(path)) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists: certs init overwrites nothing"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status InitCertificates(const CertificateRequest& request) {
  if (absl::Status status = CheckRequest(request); !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckNoneExists(request.dir); !status.ok()) {
    return status;
  }
  std::error_code error;
  std::filesystem::create_directories(request.dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot make ", request.dir, ": ", error.message()));
  }
  Key ca_key(EVP_EC_gen("P-256"));
  if (ca_key == nullptr) return OpenSslError("make a key");
  auto ca =
      NewCertificate(ca_key.get(), "Distributo private CA", kCaDays, nullptr);
  if (!ca.ok()) return ca.status();
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"}}) {
    if (absl::Status s = AddExtension(ca->get(), ca->get(), nid, value);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = Sign(ca->get(), ca_key.get()); !s.ok()) return s;
  const std::string& dir = request.dir;
  MadeFiles made;
  for (absl::Status s :
       {WritePem(dir + "/ca.pem", ca->get(), nullptr, &made),
        WritePem(dir + "/ca.key", nullptr, ca_key.get(), &made)}) {
    if (!s.ok()) return s;
  }
  if (absl::Status s =
          Issue(dir, "master", "serverAuth", MasterNames(request.master_hosts),
                request.days, ca->get(), ca_key.get(), &made);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Issue(dir, "worker", "clientAuth", "", request.days,
                             ca->get(), ca_key.get(), &made);
      !s.ok()) {
    return s;
  }
  made.Keep();
  return absl::OkStatus();
}

}  // namespace distributo::cli
