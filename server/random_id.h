#ifndef DISTRIBUTO_SERVER_RANDOM_ID_H_
#define DISTRIBUTO_SERVER_RANDOM_ID_H_

#include <string>

#include "absl/random/bit_gen_ref.h"

namespace distributo::server {

// Returns 128 random bits as 32 hex digits: a session or job id that no
// other master or run will pick.
std::string RandomHexId(absl::BitGenRef random);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_RANDOM_ID_H_
