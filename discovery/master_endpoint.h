#ifndef DISTRIBUTO_DISCOVERY_MASTER_ENDPOINT_H_
#define DISTRIBUTO_DISCOVERY_MASTER_ENDPOINT_H_

#include <string>

namespace distributo::discovery {

// One place a master may be reached. Plain data.
struct MasterEndpoint {
  // What to dial: "HOST:PORT" as given, or "ipv4:A.B.C.D:PORT" /
  // "ipv6:[ADDR]:PORT" once discovery resolved it.
  std::string target;
  // The host name the master was published as (an SRV target), for TLS
  // name checks; empty for a static address.
  std::string host;
  // How it was found, for logs, e.g. "SRV m1.example.test:5001 priority 10".
  std::string origin;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_MASTER_ENDPOINT_H_
