#include "server/random_id.h"

#include <cstdint>

#include "absl/random/distributions.h"
#include "absl/strings/str_format.h"

namespace distributo::server {

std::string RandomHexId(absl::BitGenRef random) {
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(random),
                         absl::Uniform<uint64_t>(random));
}

}  // namespace distributo::server
