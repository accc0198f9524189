#!/usr/bin/env bash
# Builds the release binary from exactly what the Dockerfile's build stage copies, in an empty
# directory, so a missing COPY (a file Cargo.toml needs) fails CI although no container engine runs
# here. Dependencies are shared through the repository's target/ directory; only the crate itself
# is compiled again. Prints the path of the binary it built.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT

# `COPY SRC... DEST` lines of the first (build) stage; `COPY --from=…` belongs to the runtime stage.
stage=$(awk '/^FROM /{n++} n==1' "$repo/Dockerfile")
while read -r _ args; do
    read -ra parts <<<"$args"
    dest="${parts[-1]}"
    for src in "${parts[@]:0:${#parts[@]}-1}"; do
        case "$dest" in
            ./) cp -r "$repo/$src" "$context/" ;;
            *) mkdir -p "$context/$dest" && cp -r "$repo/$src/." "$context/$dest/" ;;
        esac
    done
done < <(grep -E '^COPY ' <<<"$stage" | grep -v -- '--from=')

build_cmd=$(grep -E '^RUN cargo build' <<<"$stage" | sed 's/^RUN //')
(cd "$context" && CARGO_TARGET_DIR="$repo/target" eval "$build_cmd" >&2)
echo "$repo/target/release/municipal-kpi"
