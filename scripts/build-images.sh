#!/usr/bin/env bash
# Build every rewardgym image with no image registry and no network inside the builds:
#   1. scripts/docker-up.sh        a Docker engine (no bridge, no iptables)
#   2. scripts/build-base-image.sh rewardgym/base:bookworm from Debian packages (skipped when BASE_IMAGE is set)
#   3. scripts/build-wheelhouse.sh ./wheelhouse/<image>/ from PyPI, on the host
#   4. docker build --network none docker/gateway.Dockerfile -> rewardgym/gateway:latest
#      and docker/family.Dockerfile --build-arg FAMILY=<family> -> rewardgym/<family>:latest, for every
#      environments/<family>/pyproject.toml (a family with environments/<family>/debian-packages gets its own base
#      image rewardgym/base-<family>:bookworm with those packages)
#   5. sandboxes/images/build.sh   rewardgym/sandbox:latest (python3, g++, nodejs, sqlite3 from Debian packages)
#
# Usage: scripts/build-images.sh [--force]     (--force also rebuilds the base image and re-resolves the wheelhouse)
# Environment:
#   BASE_IMAGE  base of every image (e.g. python:3.11-slim where a registry is reachable); passed as a build argument
#   TAG         tag of the images (default latest)
# Idempotent: with nothing changed every step is a cache hit and the whole run takes seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG=${TAG:-latest}
force=()
case "${1:-}" in
  "") ;;
  --force) force=(--force) ;;
  *) echo "build-images: unknown argument '$1' (expected --force)" >&2; exit 2 ;;
esac

log() { echo "build-images: $*" >&2; }
start=$(date +%s)

"$ROOT/scripts/docker-up.sh"

# One run at a time (another terminal, a test session): a second one waits here, then finds everything cached.
mkdir -p "$ROOT/wheelhouse"
exec 8>"$ROOT/wheelhouse/.images.lock"
flock 8

build_args=()
if [ -n "${BASE_IMAGE:-}" ]; then
  build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
  log "base image: $BASE_IMAGE (from BASE_IMAGE)"
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || docker pull "$BASE_IMAGE"
else
  "$ROOT/scripts/build-base-image.sh" "${force[@]}" 8>&-
fi

"$ROOT/scripts/build-wheelhouse.sh" "${force[@]}" 8>&-

# image name, Dockerfile, family (empty for the gateway): the gateway, then one per family, found by globbing
# (a new family needs no edit here).
images=("rewardgym/gateway:$TAG" "docker/gateway.Dockerfile" "")
for pyproject in "$ROOT"/environments/*/pyproject.toml; do
  family=$(basename "$(dirname "$pyproject")")
  images+=("rewardgym/$family:$TAG" "docker/family.Dockerfile" "$family")
done

# The base image of a family: its own when it lists extra Debian packages (and no BASE_IMAGE was given).
family_base() {
  local family=$1 extra="$ROOT/environments/$1/debian-packages"
  if [ ! -f "$extra" ] || [ -n "${BASE_IMAGE:-}" ]; then
    [ -f "$extra" ] && log "BASE_IMAGE is set: $family's debian-packages are not installed; the base must have them"
    return 0
  fi
  local packages
  packages=$(grep -v '^#' "$extra" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
  BASE_IMAGE_TAG="rewardgym/base-$family:bookworm" BASE_NAME="base-$family" \
    BASE_PACKAGES="python3,python3-venv,$packages" "$ROOT/scripts/build-base-image.sh" "${force[@]}" 8>&-
  echo "rewardgym/base-$family:bookworm"
}

built=()
for ((i = 0; i < ${#images[@]}; i += 3)); do
  name=${images[i]}
  dockerfile=${images[i + 1]}
  family=${images[i + 2]}
  image_args=("${build_args[@]}")
  if [ -n "$family" ]; then
    image_args+=(--build-arg "FAMILY=$family")
    base=$(family_base "$family")
    [ -n "$base" ] && image_args+=(--build-arg "BASE_IMAGE=$base")
  fi
  t0=$(date +%s)
  log "building $name from $dockerfile"
  # Legacy builder output goes to a log; shown only on failure.
  logfile=$(mktemp)
  if ! DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build --network none "${image_args[@]}" -f "$ROOT/$dockerfile" -t "$name" "$ROOT" \
      >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    rm -f "$logfile"
    log "FAILED: $name"
    exit 1
  fi
  # Steps that did work (neither ARG/FROM nor a cache hit); 0 means the image was entirely cached.
  ran=$(awk '/^Step [0-9]+\/[0-9]+ : / { if (s) n++; s = ($4 != "ARG" && $4 != "FROM"); next }
             /^ ---> Using cache/ { s = 0 } END { if (s) n++; print n + 0 }' "$logfile")
  rm -f "$logfile"
  log "built $name in $(($(date +%s) - t0)) s ($ran steps run, the rest from cache)"
  built+=("$name")
done

# rewardgym/sdk: what a third-party worker image builds FROM (Python, /opt/venv with rewardgym, uid 1000,
# /run/rewardgym). It is the gateway image under a name that says what it is for; see examples/custom_env.
docker tag "rewardgym/gateway:$TAG" "rewardgym/sdk:$TAG"

TAG="$TAG" "$ROOT/sandboxes/images/build.sh" "${force[@]}" 8>&-
built+=("rewardgym/sandbox:$TAG")

# Dangling layers of earlier builds of these tags only take space.
docker image prune -f --filter "label=org.opencontainers.image.title" >/dev/null 2>&1 || true

log "all images built in $(($(date +%s) - start)) s"
docker image ls --format 'table {{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.Size}}' --filter 'reference=rewardgym/*' 
