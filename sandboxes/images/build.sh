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

# apt_mirror SUITE: the same reader of /etc/apt/sources.list(.d) as the base image's (one definition).
eval "$(sed -n '/^apt_mirror() {$/,/^}$/p' "$ROOT/scripts/build-base-image.sh")"

"$ROOT/scripts/docker-up.sh"
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.sandbox.lock"
flock 9

if [ "$force" = 1 ] || ! docker image inspect "$ROOTFS_TAG" >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "debootstrap and chroot need root"; exit 1; }
  arch=$(dpkg --print-architecture)
  key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
  rootfs_tar="$CACHE_DIR/sandbox-$SUITE-$arch-$key.tar"
  mkdir -p "$CACHE_DIR/debs"
  if [ "$refresh" = 1 ] || [ ! -s "$rootfs_tar" ]; then
    mirror=${REWARDGYM_DEBIAN_MIRROR:-$(apt_mirror "$SUITE" || true)}
    [ -n "$mirror" ] || { log "no 'deb' source for $SUITE in /etc/apt; set REWARDGYM_DEBIAN_MIRROR"; exit 1; }
    work=$(mktemp -d "$CACHE_DIR/sandbox-rootfs.XXXXXX")
    root="$work/rootfs"
    cleanup() {
      awk -v r="$root" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount -l "$m" || true
      done
      rm -rf --one-file-system "$work"
    }
    trap cleanup EXIT
    log "debootstrap $SUITE ($arch, +$PACKAGES) from the apt mirror; .debs cached in $CACHE_DIR/debs"
    debootstrap --variant=minbase --arch="$arch" --include="$PACKAGES" --cache-dir="$CACHE_DIR/debs" \
      "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
      tail -n 30 "$work/debootstrap.log" >&2
      log "debootstrap failed"
      exit 1
    }
    chroot "$root" /bin/sh -c 'python3 --version && g++ --version | head -1 && node --version && sqlite3 --version' >&2
    find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian \
      "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
      "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* \
      "$root"/root/.cache "$root"/etc/hostname "$root"/etc/resolv.conf
    : >"$root/etc/hostname"
    tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$rootfs_tar.tmp" .
    mv "$rootfs_tar.tmp" "$rootfs_tar"
    find "$CACHE_DIR" -maxdepth 1 -name "sandbox-$SUITE-$arch-*.tar" ! -path "$rootfs_tar" -delete
    log "cached root filesystem: $rootfs_tar ($(du -h "$rootfs_tar" | cut -f1))"
  fi
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.opencontainers.image.description=\"rewardgym sandbox root: Debian $SUITE minbase + $PACKAGES\"" \
    "$rootfs_tar" "$ROOTFS_TAG" >/dev/null
  log "imported $ROOTFS_TAG"
fi

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
