#ifndef DISTRIBUTO_PROTO_RPC_STOP_SIGNALS_H_
#define DISTRIBUTO_PROTO_RPC_STOP_SIGNALS_H_

#include <signal.h>

#include <functional>

namespace distributo {

// SIGINT and SIGTERM, handled by one thread of the binary's own so that the
// reaction may take locks and log (a signal handler may do neither).

// Blocks the stop signals in the calling thread and every thread it starts
// afterwards; returns that set. Call first thing in main(), before any
// thread (gRPC's included) exists.
sigset_t BlockStopSignals();

// Starts a detached thread that calls `on_first(signal)` at the first stop
// signal and exits the process with 128 + signal at the second, so that an
// operator can always cut a slow shutdown short. `on_first` runs on that
// thread and must stay callable until the process exits.
void HandleStopSignals(sigset_t signals, std::function<void(int)> on_first);

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_STOP_SIGNALS_H_
