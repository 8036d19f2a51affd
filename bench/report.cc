#include "bench/report.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace distributo::bench {

std::string Report::Serialize() const {
  std::string text;
  for (const auto& [key, value] : fields_) {
    absl::StrAppend(&text, key, " ", value, "\n");
  }
  return text;
}

absl::StatusOr<Report> Report::Parse(absl::string_view text) {
  Report report;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> field =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (field.first.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad report line: ", line));
    }
    report.Set(field.first, field.second);
  }
  return report;
}

absl::StatusOr<std::string> Report::Text(absl::string_view key) const {
  auto it = fields_.find(key);
  if (it == fields_.end()) {
    return absl::NotFoundError(absl::StrCat("the report has no ", key));
  }
  return it->second;
}

absl::StatusOr<double> Report::Number(absl::string_view key) const {
  absl::StatusOr<std::string> text = Text(key);
  if (!text.ok()) return text.status();
  double value;
  if (!absl::SimpleAtod(*text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the report's ", key, " is not a number: ", *text));
  }
  return value;
}

}  // namespace distributo::bench
