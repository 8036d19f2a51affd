// In a binary of its own: it fills the process's table of interned type
// URLs, which would change what every later test in the same process does.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/packed_task.h"

namespace distributo::server {
namespace {

v1::Task TaskOfType(int index) {
  v1::Task task;
  task.set_id(absl::StrCat("t", index));
  task.mutable_payload()->set_type_url(absl::StrCat("type.example/T", index));
  task.mutable_payload()->set_value(absl::StrCat("v", index));
  return task;
}

// Half of them packed from a v1::Task, half from their parts: both ways
// must keep a type past the table's limit.
PackedTask PackedOfType(int index) {
  v1::Task task = TaskOfType(index);
  if (index % 2 == 0) return PackedTask(std::move(task));
  return PackedTask(task.id(), task.payload().type_url(),
                    task.payload().value());
}

TEST(PackedTaskFloodTest, TypesPastTheInternedOnesKeepTheirOwnCopy) {
  constexpr int kTypes = 5000;  // more than the table takes
  std::vector<PackedTask> packed;
  for (int i = 0; i < kTypes; ++i) packed.push_back(PackedOfType(i));
  for (int i = 0; i < kTypes; ++i) {
    const v1::Task task = TaskOfType(i);
    ASSERT_EQ(packed[i].type_url(), task.payload().type_url());
    ASSERT_EQ(packed[i].payload_value(), task.payload().value());
    ASSERT_EQ(packed[i].ToTask().SerializeAsString(), task.SerializeAsString());
    // The bytes a lease writes of it, its payload interned or not.
    std::string wire(packed[i].WireSize(), '\0');
    ASSERT_EQ(packed[i].WriteWire(reinterpret_cast<uint8_t*>(wire.data())),
              reinterpret_cast<uint8_t*>(wire.data()) + wire.size());
    v1::Task parsed;
    ASSERT_TRUE(parsed.ParseFromString(wire));
    ASSERT_EQ(parsed.SerializeAsString(), task.SerializeAsString());
  }
  // The first types were interned; the last were not, so two tasks of one
  // of them hold two copies.
  EXPECT_EQ(PackedTask(TaskOfType(0)).type_url().data(),
            packed[0].type_url().data());
  EXPECT_NE(PackedTask(TaskOfType(kTypes - 1)).type_url().data(),
            packed[kTypes - 1].type_url().data());
}

}  // namespace
}  // namespace distributo::server
