#!/usr/bin/env bash
# Replays the Dockerfile's build stage without a container engine (none runs in CI): the build
# context is the repository less what .dockerignore leaves out, and the stage's COPY and RUN lines
# run in order in an empty directory standing for WORKDIR. A missing COPY, a file .dockerignore
# must not leave out, or a dependency layer that no longer builds fails here. Dependencies are
# shared through the repository's target/ directory. Prints the path of the binary it built.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
context="$(mktemp -d)"
workdir="$(mktemp -d)"
trap 'rm -rf "$context" "$workdir"' EXIT

# The build context. target/ and .git/ are left out at once (they are in .dockerignore, and large).
tar -C "$repo" --exclude=./target --exclude=./.git -cf - . | tar -C "$context" -xf -
(
    cd "$context"
    shopt -s globstar dotglob nullglob
    while IFS= read -r pattern; do
        pattern="${pattern%/}"
        case "$pattern" in '' | '#'* | '!'*) continue ;; esac
        # Unquoted on purpose: the pattern is a glob, as Docker reads it.
        # shellcheck disable=SC2086
        rm -rf -- $pattern
    done <"$repo/.dockerignore"
)

copy() { # COPY SRC... DEST, relative to the context and to WORKDIR
    local parts=("$@") dest="${!#}"
    for src in "${parts[@]:0:$#-1}"; do
        if [ -d "$context/$src" ]; then
            mkdir -p "$workdir/$dest" && cp -r "$context/$src/." "$workdir/$dest/"
        else
            mkdir -p "$workdir/$(dirname "$dest/x")" && cp "$context/$src" "$workdir/$dest"
        fi
    done
}

# The build stage (up to the second FROM), continuation lines joined.
stage=$(awk '/^FROM /{n++} n==1' "$repo/Dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
while IFS= read -r line; do
    case "$line" in
        'COPY --from='*) ;;
        'COPY '*) read -ra args <<<"${line#COPY }" && copy "${args[@]}" ;;
        'RUN '*) (cd "$workdir" && CARGO_TARGET_DIR="$repo/target" sh -c "${line#RUN }" >&2) ;;
    esac
done <<<"$stage"
echo "$repo/target/release/municipal-kpi"
