#ifndef DISTRIBUTO_PROTO_RPC_MUTEX_MODE_H_
#define DISTRIBUTO_PROTO_RPC_MUTEX_MODE_H_

#include "absl/synchronization/mutex.h"

namespace distributo {

// Turns off absl::Mutex's deadlock detection for the whole process. Debian
// builds Abseil without NDEBUG, which leaves it on: every lock and unlock
// then updates one process-wide graph of lock orders under one global spin
// lock, about 2% of the master's instructions per task, and a point where
// all its threads meet. Our programs call it first thing; tests keep the
// detection, which is what it is for, and so does a host of the SDK.
inline void TurnOffMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace distributo

#endif  // DISTRIBUTO_PROTO_RPC_MUTEX_MODE_H_
