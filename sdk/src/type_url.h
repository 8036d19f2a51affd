#ifndef DISTRIBUTO_SDK_SRC_TYPE_URL_H_
#define DISTRIBUTO_SDK_SRC_TYPE_URL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace distributo::internal {

// Returns the google.protobuf.Any type URL of a message type, as
// Any::PackFrom would write it.
inline std::string TypeUrl(absl::string_view full_name) {
  return absl::StrCat("type.googleapis.com/", full_name);
}

}  // namespace distributo::internal

#endif  // DISTRIBUTO_SDK_SRC_TYPE_URL_H_
