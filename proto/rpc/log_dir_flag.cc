// --log_dir, shared by distributo-master and distributo-worker. It lives
// here, not in their main.cc (as other flags do), because glog declares a
// global FLAGS_log_dir of its own: this file must not include glog.
#include <string>

#include "absl/flags/flag.h"
#include "rpc/logging.h"

ABSL_FLAG(std::string, log_dir, "",
          "Also write logs to files in this directory (made if missing), one "
          "per severity; stderr gets them either way.");

namespace distributo::internal {

std::string LogDirFlag() { return absl::GetFlag(FLAGS_log_dir); }

}  // namespace distributo::internal
