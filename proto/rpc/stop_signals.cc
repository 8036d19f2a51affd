#include "rpc/stop_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <thread>
#include <utility>

namespace distributo {

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

void HandleStopSignals(sigset_t signals, std::function<void(int)> on_first) {
  std::thread([signals, on_first = std::move(on_first)] {
    bool stopping = false;
    int signal = 0;
    while (sigwait(&signals, &signal) == 0) {
      if (stopping) _exit(128 + signal);
      stopping = true;
      on_first(signal);
    }
  }).detach();
}

}  // namespace distributo
