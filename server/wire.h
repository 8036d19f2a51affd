#ifndef DISTRIBUTO_SERVER_WIRE_H_
#define DISTRIBUTO_SERVER_WIRE_H_

#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"

namespace distributo::server {

// The master's streams are registered raw (ByteBuffer in and out) so that
// bytes that do not parse can be told apart from a clean close: gRPC's typed
// callback reactors report both as a failed read, and would end a stream of
// garbage with OK. These convert at that edge.

// Parses `bytes` into `message`. Returns false if they are not a valid
// message of that type.
template <typename Message>
bool ParseWire(grpc::ByteBuffer* bytes, Message* message) {
  return grpc::SerializationTraits<Message>::Deserialize(bytes, message).ok();
}

// Serializes `message` into `bytes`, replacing what they held.
template <typename Message>
void ToWire(const Message& message, grpc::ByteBuffer* bytes) {
  bytes->Clear();
  bool own_buffer = false;
  // Serializing a message built in memory cannot fail.
  grpc::SerializationTraits<Message>::Serialize(message, bytes, &own_buffer);
}

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_WIRE_H_
