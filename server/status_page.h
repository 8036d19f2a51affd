#ifndef DISTRIBUTO_SERVER_STATUS_PAGE_H_
#define DISTRIBUTO_SERVER_STATUS_PAGE_H_

#include "absl/strings/string_view.h"

namespace distributo::server {

// The live status page served at "/": plain HTML, CSS and a little
// JavaScript that polls /api/status every second and redraws the counts,
// the throughput chart, the workers table, recent failures and dead tasks.
// Needs nothing from outside the master.
absl::string_view StatusPageHtml();

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_STATUS_PAGE_H_
