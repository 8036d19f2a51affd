#ifndef DISTRIBUTO_SERVER_WIRE_FIELDS_H_
#define DISTRIBUTO_SERVER_WIRE_FIELDS_H_

#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

// Length-delimited protobuf fields written by hand, for the messages the
// master writes from its own structures without building them first (leased
// batches: server/lease_writer.h). Each size function measures what the
// matching writer writes; the writers return the end of what they wrote.
namespace distributo::server::wire_fields {

using google::protobuf::internal::WireFormatLite;

// Field `field` holding `size` bytes: its tag, length and bytes.
inline size_t LengthDelimitedSize(int field, size_t size) {
  return WireFormatLite::TagSize(field, WireFormatLite::TYPE_BYTES) +
         WireFormatLite::LengthDelimitedSize(size);
}

// The tag and length of field `field` holding `size` bytes, which the
// caller writes next.
inline uint8_t* WriteLengthDelimitedHeader(int field, size_t size,
                                           uint8_t* target) {
  target = WireFormatLite::WriteTagToArray(
      field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, target);
  return google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(size), target);
}

// A bytes or string field, or nothing if `bytes` is empty, as proto3 does.
inline size_t BytesFieldSize(int field, absl::string_view bytes) {
  return bytes.empty() ? 0 : LengthDelimitedSize(field, bytes.size());
}
inline uint8_t* WriteBytesField(int field, absl::string_view bytes,
                                uint8_t* target) {
  if (bytes.empty()) return target;
  target = WriteLengthDelimitedHeader(field, bytes.size(), target);
  std::memcpy(target, bytes.data(), bytes.size());
  return target + bytes.size();
}

// A message field holding `message`, whose size is cached (ByteSizeLong()).
template <typename Message>
uint8_t* WriteMessageField(int field, const Message& message, uint8_t* target) {
  target = WriteLengthDelimitedHeader(field, message.GetCachedSize(), target);
  return message.SerializeWithCachedSizesToArray(target);
}

}  // namespace distributo::server::wire_fields

#endif  // DISTRIBUTO_SERVER_WIRE_FIELDS_H_
