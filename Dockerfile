# syntax=docker/dockerfile:1
# Dockerfile: builds zicht on Debian bookworm, then ships the binary in a slim
# bookworm image with only the shared libraries it links (checked by
# scripts/docker-runtime-check against `ldd` of a real build).
#
#   docker build -t zicht:0.1.0 .
#   docker run --rm -p 9464:9464 -v zicht-state:/var/lib/zicht \
#     -e ZICHT_KAFKA_BOOTSTRAP=kafka:9092 zicht:0.1.0

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
# The -dev packages of scripts/setup (LIBRARIES) and the build tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config ca-certificates \
      librdkafka-dev librocksdb-dev libboost-dev prometheus-cpp-dev libyaml-cpp-dev \
      libsimdjson-dev libcli11-dev libfmt-dev libspdlog-dev libgtest-dev libgmock-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZICHT_WERROR=ON \
      -DZICHT_BUILD_BENCH=OFF \
 && cmake --build /build --target zicht -j"$(nproc)" \
 && strip --strip-debug -o /zicht /build/zicht

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
# runtime-packages: keep this list in one RUN; scripts/docker-runtime-check
# reads it (every name must exist in bookworm, every library the binary
# needs must come from these packages or their dependencies).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 librdkafka++1 librocksdb7.8 libyaml-cpp0.7 libsimdjson14 libfmt9 \
      libspdlog1.10 libprometheus-cpp-core1.0 libssl3 libstdc++6 zlib1g libsnappy1v5 \
      liblz4-1 libzstd1 libbz2-1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 zicht \
 && useradd --system --uid 10001 --gid zicht --home-dir /var/lib/zicht --shell /usr/sbin/nologin zicht \
 && mkdir -p /var/lib/zicht /etc/zicht \
 && chown zicht:zicht /var/lib/zicht

COPY --from=build /zicht /usr/bin/zicht
# Rule packs and reference data; relative paths in config/engine.yaml
# ("config/rules/...") resolve from the working directory.
COPY config/ /usr/share/zicht/config/
COPY config/engine.yaml /etc/zicht/engine.yaml
WORKDIR /usr/share/zicht

USER 10001:10001
VOLUME ["/var/lib/zicht"]
EXPOSE 9464
# No curl in the image: bash's /dev/tcp asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9464 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["zicht"]
CMD ["run", "--config", "/etc/zicht/engine.yaml"]
