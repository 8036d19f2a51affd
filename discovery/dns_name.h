#ifndef DISTRIBUTO_DISCOVERY_DNS_NAME_H_
#define DISTRIBUTO_DISCOVERY_DNS_NAME_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace distributo::discovery {

// A domain name as its labels, e.g. {"master 1", "_distributo", "_tcp",
// "local"}. DNS-SD instance labels may hold any bytes, dots and spaces
// included, so names are kept as labels rather than as dotted text; the
// text form escapes '.' and '\' inside a label with a backslash.
// Comparison ignores ASCII case, as DNS does. Value type.
class DnsName {
 public:
  static constexpr size_t kMaxLabel = 63;
  static constexpr size_t kMaxWire = 255;  // encoded length, labels + root

  DnsName() = default;

  // Parses dotted text ("a.b.c", an optional trailing dot, "\." for a dot
  // inside a label). InvalidArgument for empty labels or a name too long.
  static absl::StatusOr<DnsName> FromText(absl::string_view text);
  // Returns InvalidArgument if a label is empty or longer than kMaxLabel, or
  // the name is longer than kMaxWire once encoded.
  static absl::StatusOr<DnsName> FromLabels(std::vector<std::string> labels);

  const std::vector<std::string>& labels() const { return labels_; }
  // Length on the wire: a length byte per label plus the root byte.
  size_t wire_size() const;
  std::string ToText() const;

  // Returns `label` followed by this name; InvalidArgument if too long.
  absl::StatusOr<DnsName> Prepend(absl::string_view label) const;

  friend bool operator==(const DnsName& a, const DnsName& b);
  friend bool operator!=(const DnsName& a, const DnsName& b) {
    return !(a == b);
  }

 private:
  explicit DnsName(std::vector<std::string> labels)
      : labels_(std::move(labels)) {}

  std::vector<std::string> labels_;
};

}  // namespace distributo::discovery

#endif  // DISTRIBUTO_DISCOVERY_DNS_NAME_H_
