#ifndef DISTRIBUTO_SERVER_PROMETHEUS_TEXT_H_
#define DISTRIBUTO_SERVER_PROMETHEUS_TEXT_H_

#include <string>

#include "server/master.h"

namespace distributo::server {

// Renders `status` in the Prometheus text exposition format (version
// 0.0.4), every metric named distributo_*, with HELP and TYPE lines.
std::string PrometheusText(const MasterStatus& status);

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_PROMETHEUS_TEXT_H_
