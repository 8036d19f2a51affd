// libFuzzer target: JSONL task files, as users write them (--tasks, the
// CLI's enqueue). Reading must never crash or hang; what it accepts must
// keep to the limits.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "server/task_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distributo::server;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const TaskLimits limits;
  if (auto task = ParseTaskLine(text, 1, limits); task.ok()) {
    if (task->id().empty() || task->id().size() > limits.max_id_bytes ||
        task->ByteSizeLong() > limits.max_task_bytes) {
      __builtin_trap();
    }
  }
  std::istringstream input(text);
  if (auto tasks = ReadTasks(input, "fuzz", limits); tasks.ok()) {
    absl::flat_hash_set<std::string> ids;
    for (const auto& task : *tasks) {
      if (!ids.insert(task.id()).second) __builtin_trap();  // ids are unique
    }
  }
  return 0;
}
