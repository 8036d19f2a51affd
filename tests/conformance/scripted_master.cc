#include "tests/conformance/scripted_master.h"

#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace distributo::conformance {

ScriptedMaster::ScriptedMaster() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port_);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
}

ScriptedMaster::~ScriptedMaster() {
  // Ends every stream still open; the reactors outlive the server.
  if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now()));
}

}  // namespace distributo::conformance
