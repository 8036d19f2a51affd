#ifndef DISTRIBUTO_SERVER_STATUS_JSON_H_
#define DISTRIBUTO_SERVER_STATUS_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/master.h"

namespace distributo::server {

// How many tasks had finished at a moment, for the throughput chart.
struct ThroughputSample {
  absl::Time time;
  uint64_t finished = 0;  // done + dead
};

// Renders what the status page shows as one JSON object: "counts",
// "workers", "recent_failures", "dead", "throughput" (samples, oldest
// first), "serving", "draining", "durable". Times are RFC 3339 strings.
std::string StatusJson(const MasterStatus& status,
                       const std::vector<ThroughputSample>& throughput);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_STATUS_JSON_H_
