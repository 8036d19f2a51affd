#ifndef DISTRIBUTO_BENCH_REPORT_H_
#define DISTRIBUTO_BENCH_REPORT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace distributo::bench {

// What one of the benchmark's processes tells its parent: lines of "key
// value" in a file. Thread-compatible.
class Report {
 public:
  void Set(absl::string_view key, absl::string_view value) {
    fields_[std::string(key)] = std::string(value);
  }
  template <typename Number>
  void SetNumber(absl::string_view key, Number value) {
    Set(key, absl::StrCat(value));
  }

  std::string Serialize() const;
  // Returns InvalidArgument for a line that is not "key value".
  static absl::StatusOr<Report> Parse(absl::string_view text);

  // Return NotFound for a missing key, InvalidArgument for a value that is
  // not a number.
  absl::StatusOr<std::string> Text(absl::string_view key) const;
  absl::StatusOr<double> Number(absl::string_view key) const;

 private:
  std::map<std::string, std::string, std::less<>> fields_;
};

}  // namespace distributo::bench

#endif  // DISTRIBUTO_BENCH_REPORT_H_
