#include "rpc/json_value.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"

namespace distributo {

absl::StatusOr<google::protobuf::Value> ParseJsonValue(absl::string_view json) {
  json = absl::StripAsciiWhitespace(json);
  if (json.empty()) return absl::InvalidArgumentError("not valid JSON: empty");
  google::protobuf::Value value;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", status.message().as_string()));
  }
  return value;
}

namespace {

void AppendQuoted(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<int>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendNumber(double number, std::string* out) {
  if (!std::isfinite(number)) {
    // As the protobuf JSON mapping spells them; JSON has no such numbers.
    AppendQuoted(std::isnan(number) ? "NaN"
                 : number > 0       ? "Infinity"
                                    : "-Infinity",
                 out);
    return;
  }
  // The shortest form that reads back as the same double.
  std::string text = absl::StrFormat("%.15g", number);
  if (std::strtod(text.c_str(), nullptr) != number) {
    text = absl::StrFormat("%.17g", number);
  }
  out->append(text);
}

void AppendValue(const google::protobuf::Value& value, std::string* out);

void AppendStruct(const google::protobuf::Struct& object, std::string* out) {
  // Sorted, so that the same value always prints the same text.
  std::vector<const std::string*> keys;
  for (const auto& field : object.fields()) keys.push_back(&field.first);
  std::sort(keys.begin(), keys.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  out->push_back('{');
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendQuoted(*keys[i], out);
    out->push_back(':');
    AppendValue(object.fields().at(*keys[i]), out);
  }
  out->push_back('}');
}

void AppendValue(const google::protobuf::Value& value, std::string* out) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      AppendNumber(value.number_value(), out);
      break;
    case google::protobuf::Value::kStringValue:
      AppendQuoted(value.string_value(), out);
      break;
    case google::protobuf::Value::kBoolValue:
      out->append(value.bool_value() ? "true" : "false");
      break;
    case google::protobuf::Value::kStructValue:
      AppendStruct(value.struct_value(), out);
      break;
    case google::protobuf::Value::kListValue:
      out->push_back('[');
      for (int i = 0; i < value.list_value().values_size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendValue(value.list_value().values(i), out);
      }
      out->push_back(']');
      break;
    default:  // null, or no kind set
      out->append("null");
  }
}

}  // namespace

std::string PrintJsonValue(const google::protobuf::Value& value) {
  std::string json;
  AppendValue(value, &json);
  return json;
}

absl::StatusOr<google::protobuf::Any> JsonToAny(absl::string_view json) {
  auto value = ParseJsonValue(json);
  if (!value.ok()) return value.status();
  google::protobuf::Any any;
  any.PackFrom(*value);
  return any;
}

std::string AnyToJson(const google::protobuf::Any& any) {
  google::protobuf::Value value;
  if (any.type_url() == kJsonValueTypeUrl && any.UnpackTo(&value)) {
    return PrintJsonValue(value);
  }
  std::string json;
  if (google::protobuf::util::MessageToJsonString(any, &json).ok()) {
    return json;
  }
  return absl::StrCat("{\"@type\":", JsonQuote(any.type_url()),
                      ",\"base64\":\"", absl::Base64Escape(any.value()), "\"}");
}

std::string JsonQuote(absl::string_view text) {
  std::string quoted;
  AppendQuoted(text, &quoted);
  return quoted;
}

}  // namespace distributo
