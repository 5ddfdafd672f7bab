#!/usr/bin/env bash
# Build the sandbox image rewardgym/sandbox:latest with no image registry and no network inside the build:
#   1. debootstrap --variant=minbase bookworm + python3, g++, nodejs, sqlite3 on the host, from the mirror apt is
#      configured with (read at run time, never written into a file), docs/man pages/locales stripped, then
#      `tar | docker import` -> rewardgym/sandbox-rootfs:bookworm
#   2. docker build --network none sandboxes/images/Dockerfile (context: sandboxes/) -> rewardgym/sandbox:$TAG,
#      which copies the supervisor into /opt/rewardgym-sandbox (root, 0700).
# One image holds every language (python, cpp, javascript, sqlite): one warm container per core serves them all.
#
# Usage: sandboxes/images/build.sh [--force] [--refresh]
#   --force    re-import the root filesystem image even if it exists (from the cached tar)
#   --refresh  run debootstrap again instead of using the cached root filesystem (the .debs stay cached)
# Environment: TAG (default latest), REWARDGYM_CACHE_DIR (default /var/cache/rewardgym), REWARDGYM_DEBIAN_MIRROR.
# Idempotent: seconds when nothing changed. Called by scripts/build-images.sh.
set -euo pipefail

SUITE=bookworm
PACKAGES=python3,g++,nodejs,sqlite3
ROOTFS_TAG=rewardgym/sandbox-rootfs:$SUITE
TAG=rewardgym/sandbox:${TAG:-latest}
CACHE_DIR=${REWARDGYM_CACHE_DIR:-/var/cache/rewardgym}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

force=0
refresh=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --refresh) force=1; refresh=1 ;;
    *) echo "build-sandbox-image: unknown argument '$arg' (expected --force or --refresh)" >&2; exit 2 ;;
  esac
done

log() { echo "build-sandbox-image: $*" >&2; }

"$ROOT/scripts/docker-up.sh"
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.sandbox-image.lock"  # not .sandbox.lock: build-base-image.sh takes that one
flock 9

# The root filesystem: the base image's recipe (debootstrap from the mirror apt is configured with, stripped,
# cached, `docker import`ed) with the sandbox's packages.
base_args=()
[ "$force" = 1 ] && base_args=(--force)
[ "$refresh" = 1 ] && base_args=(--refresh)
BASE_IMAGE_TAG=$ROOTFS_TAG BASE_PACKAGES=$PACKAGES BASE_NAME=sandbox REWARDGYM_CACHE_DIR=$CACHE_DIR \
  "$ROOT/scripts/build-base-image.sh" "${base_args[@]}"

logfile=$(mktemp)
if ! DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build --network none --build-arg "ROOTFS_IMAGE=$ROOTFS_TAG" \
    -f "$HERE/Dockerfile" -t "$TAG" "$ROOT/sandboxes" >"$logfile" 2>&1; then
  tail -n 40 "$logfile" >&2
  rm -f "$logfile"
  log "FAILED: $TAG"
  exit 1
fi
rm -f "$logfile"
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"
