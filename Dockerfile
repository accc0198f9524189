# Multi-stage build: a static-ish binary (bundled SQLite, libpq and OpenSSL) on a slim runtime.
# `.ci/run` proves this build context compiles: scripts/docker-context.sh replays the build stage's
# COPY and RUN lines in an empty directory, leaving out what .dockerignore leaves out (no container
# engine runs in CI).
FROM rust:1.95-bookworm AS build
WORKDIR /src

# The dependencies in a layer of their own, rebuilt only when Cargo.toml, Cargo.lock or .cargo
# change: built for an empty stand-in of every target Cargo.toml names (a target without its file
# is a manifest error), then the stand-in of the binary is removed.
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
RUN mkdir -p src benches tests/api \
    && for target in src/main.rs benches/evaluation_load.rs benches/import_load.rs tests/api/main.rs; do \
           echo 'fn main() {}' > "$target"; \
       done \
    && cargo build --release --locked --bin municipal-kpi \
    && rm -rf src

# The application: only what the binary is built from (benches and tests keep their stand-ins).
COPY src ./src
COPY migrations ./migrations
COPY demo ./demo
COPY docs ./docs
COPY web ./web
# COPY keeps the files' modification times, which may be older than the stand-in's build: touch,
# or cargo would take the stand-in for up to date.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin municipal-kpi

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app kpi \
    && mkdir -p /data && chown kpi:kpi /data
WORKDIR /app
COPY --from=build /src/target/release/municipal-kpi /usr/local/bin/municipal-kpi
USER kpi
# Without DATABASE_URL the embedded SQLite file lives in /data, writable by `kpi` (uid 10001). A
# bind-mounted host directory must be writable by uid 10001 too (`chown 10001 DIR`); otherwise
# every command says so in one line and exits non-zero.
ENV BIND_ADDR=0.0.0.0:8080 LOG_FORMAT=json DATABASE_URL=sqlite:///data/municipal-kpi.db
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["municipal-kpi"]
CMD ["serve"]
