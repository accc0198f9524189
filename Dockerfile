# Multi-stage build: a static-ish binary (bundled SQLite, libpq and OpenSSL) on a slim runtime.
# `.ci/run` proves this build context compiles: scripts/docker-context.sh copies exactly the COPY
# sources below into an empty directory and builds there (no container engine runs in CI).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
COPY benches ./benches
COPY migrations ./migrations
COPY demo ./demo
COPY docs ./docs
COPY openapi ./openapi
COPY web ./web
RUN cargo build --release --locked --bin municipal-kpi

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app kpi \
    && mkdir -p /data && chown kpi:kpi /data
WORKDIR /app
COPY --from=build /src/target/release/municipal-kpi /usr/local/bin/municipal-kpi
USER kpi
# Without DATABASE_URL the embedded SQLite file lives in the volume, writable by `kpi`.
ENV BIND_ADDR=0.0.0.0:8080 LOG_FORMAT=json DATABASE_URL=sqlite:///data/municipal-kpi.db
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["municipal-kpi"]
CMD ["serve"]
