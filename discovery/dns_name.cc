#include "discovery/dns_name.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace distributo::discovery {

absl::StatusOr<DnsName> DnsName::FromText(absl::string_view text) {
  if (absl::EndsWith(text, ".") && !absl::EndsWith(text, "\\.")) {
    text.remove_suffix(1);
  }
  std::vector<std::string> labels;
  if (text.empty()) return DnsName();
  std::string label;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      label += text[++i];
    } else if (text[i] == '.') {
      labels.push_back(std::move(label));
      label.clear();
    } else {
      label += text[i];
    }
  }
  labels.push_back(std::move(label));
  absl::StatusOr<DnsName> name = FromLabels(std::move(labels));
  if (!name.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad DNS name \"", text, "\": ", name.status().message()));
  }
  return name;
}

absl::StatusOr<DnsName> DnsName::FromLabels(std::vector<std::string> labels) {
  DnsName name(std::move(labels));
  for (const std::string& label : name.labels_) {
    if (label.empty()) return absl::InvalidArgumentError("empty label");
    if (label.size() > kMaxLabel) {
      return absl::InvalidArgumentError(
          absl::StrCat("label longer than ", kMaxLabel, " bytes"));
    }
  }
  if (name.wire_size() > kMaxWire) {
    return absl::InvalidArgumentError(
        absl::StrCat("name longer than ", kMaxWire, " bytes"));
  }
  return name;
}

size_t DnsName::wire_size() const {
  size_t size = 1;
  for (const std::string& label : labels_) size += 1 + label.size();
  return size;
}

std::string DnsName::ToText() const {
  std::string text;
  for (const std::string& label : labels_) {
    if (!text.empty()) text += '.';
    for (char c : label) {
      if (c == '.' || c == '\\') text += '\\';
      text += c;
    }
  }
  return text;
}

absl::StatusOr<DnsName> DnsName::Prepend(absl::string_view label) const {
  std::vector<std::string> labels;
  labels.reserve(labels_.size() + 1);
  labels.emplace_back(label);
  labels.insert(labels.end(), labels_.begin(), labels_.end());
  return FromLabels(std::move(labels));
}

bool operator==(const DnsName& a, const DnsName& b) {
  if (a.labels_.size() != b.labels_.size()) return false;
  for (size_t i = 0; i < a.labels_.size(); ++i) {
    if (!absl::EqualsIgnoreCase(a.labels_[i], b.labels_[i])) return false;
  }
  return true;
}

}  // namespace distributo::discovery
