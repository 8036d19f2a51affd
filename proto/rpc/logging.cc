#include "rpc/logging.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace distributo {

absl::Status InitLogging(const char* argv0) {
  const std::string dir = internal::LogDirFlag();
  absl::Status status;
  std::error_code error;
  if (!dir.empty() && !std::filesystem::create_directories(dir, error) &&
      error) {
    status = absl::UnavailableError(
        absl::StrCat("cannot make --log_dir ", dir, ": ", error.message()));
  }
  const bool to_files = !dir.empty() && status.ok();
  FLAGS_logtostderr = !to_files;
  FLAGS_alsologtostderr = to_files;
  if (to_files) FLAGS_log_dir = dir;
  google::InitGoogleLogging(argv0);
  return status;
}

}  // namespace distributo
