# distributo-master (and distributo-worker, distributo) in a container:
#   docker build -t distributo .
#   docker run -p 4000:4000 -v distributo-state:/var/lib/distributo distributo \
#     --insecure --tasks=/var/lib/distributo/tasks.jsonl \
#     --results=/var/lib/distributo/results.jsonl
# (--insecure on a trusted network only; else the TLS flags of
# docs/security.md). A TLS or token master needs a HEALTHCHECK of its own
# that passes them to `distributo ready`.
# Built on Debian 12, run on Debian 12 slim with only the runtime libraries,
# as a non-root user; the journal and results go on the volume.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      protobuf-compiler libprotobuf-dev protobuf-compiler-grpc \
      libgrpc++-dev libgrpc-dev libabsl-dev libgoogle-glog-dev libgflags-dev \
      libc-ares-dev libsqlite3-dev libcpp-httplib-dev libssl-dev \
      libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY discovery discovery
COPY server server
COPY worker worker
COPY sdk sdk
COPY cli cli
COPY examples examples
COPY bench bench
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DDISTRIBUTO_BUILD_TESTS=OFF \
 && cmake --build build --target distributo-master distributo-worker distributo \
 && install -D -t /out/bin build/server/distributo-master \
      build/worker/distributo-worker build/cli/distributo

FROM debian:12-slim
# The runtime libraries and the distributo user, from the script CI proves
# in a minimal Debian root filesystem of its own (tests/deploy/image_test.sh).
COPY deploy/install-runtime.sh /tmp/
RUN sh /tmp/install-runtime.sh && rm /tmp/install-runtime.sh
COPY --from=build /out/bin/ /usr/local/bin/
USER distributo
WORKDIR /var/lib/distributo
VOLUME /var/lib/distributo
EXPOSE 4000
# The master's own view: SERVING on its grpc.health.v1 service, i.e. it can
# store outcomes and is not draining. /readyz answers the same over HTTP
# when --http_port is given.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s \
  CMD ["distributo", "ready", "--master=127.0.0.1:4000"]
# Inside a container the port must be reachable from outside: listen on all
# addresses, which needs TLS flags or --insecure (see docs/security.md).
ENTRYPOINT ["distributo-master", "--listen=0.0.0.0", "--port=4000"]
