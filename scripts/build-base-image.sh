#!/usr/bin/env bash
# Build the base image rewardgym/base:bookworm from Debian packages, without any image registry:
#   debootstrap --variant=minbase bookworm (+ python3, python3-venv) from the mirror apt is configured with,
#   docs/man pages/locales stripped, then `tar | docker import`. The Dockerfiles create /opt/venv themselves.
#
# Usage: scripts/build-base-image.sh [--force] [--refresh]
#   --force    re-import the image even if it exists (reuses the cached root filesystem)
#   --refresh  run debootstrap again instead of using the cached root filesystem (the .debs stay cached)
# Environment:
#   BASE_IMAGE_TAG           image to create (default rewardgym/base:bookworm)
#   BASE_PACKAGES            Debian packages on top of minbase (default python3,python3-venv); the sandbox's root
#                            filesystem is this same recipe with its own packages (sandboxes/images/build.sh)
#   BASE_NAME                name of its cached root filesystem and lock (default base)
#   REWARDGYM_CACHE_DIR      cache directory (default /var/cache/rewardgym)
#   REWARDGYM_DEBIAN_MIRROR  mirror URL to use instead of the one read from apt's configuration
#
# Idempotent: does nothing when the image exists. The stripped root filesystem is cached as a tar named after a hash
# of this script, so editing the recipe rebuilds it and a plain re-import takes seconds.
set -euo pipefail

SUITE=bookworm
PACKAGES=${BASE_PACKAGES:-python3,python3-venv}
NAME=${BASE_NAME:-base}
TAG=${BASE_IMAGE_TAG:-rewardgym/base:${SUITE}}
CACHE_DIR=${REWARDGYM_CACHE_DIR:-/var/cache/rewardgym}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

force=0
refresh=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --refresh) force=1; refresh=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-base-image: unknown argument '$arg' (expected --force or --refresh)" >&2; exit 2 ;;
  esac
done

log() { echo "build-base-image: $*" >&2; }

# Print the first URI apt uses for "deb" entries of suite $1, from sources.list(.d) in one-line or deb822 format.
apt_mirror() {
  local suite=$1 f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri=$(awk -v s="$suite" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) { print $i; exit }
      }' "$f")
    if [ -n "$uri" ]; then echo "$uri"; return 0; fi
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    uri=$(awk -v s="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (n = 1; n <= NF; n++) {
          line = $n
          if (line ~ /^[ \t]*#/) continue
          k = tolower(line); sub(/:.*/, "", k)
          v = line; sub(/^[^:]*:[ \t]*/, "", v)
          if (k == "types") types = v
          else if (k == "uris") uris = v
          else if (k == "suites") suites = v
          else if (k == "enabled") enabled = tolower(v)
        }
        if (enabled == "no") next
        if ((" " types " ") !~ / deb /) next
        if ((" " suites " ") !~ (" " s " ")) next
        split(uris, u, /[ \t]+/); print u[1]; exit
      }' "$f")
    if [ -n "$uri" ]; then echo "$uri"; return 0; fi
  done
  return 1
}

"$HERE/docker-up.sh"

# One run at a time: a second one waits here, then finds the image built.
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.$NAME.lock"
flock 9

if [ "$force" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG exists (use --force to rebuild)"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "debootstrap and chroot need root"
  exit 1
fi

arch=$(dpkg --print-architecture)
key=$({ sha256sum "${BASH_SOURCE[0]}"; echo "$PACKAGES"; } | sha256sum | cut -c1-12)
rootfs_tar="$CACHE_DIR/$NAME-$SUITE-$arch-$key.tar"
mkdir -p "$CACHE_DIR/debs"

if [ "$refresh" = 1 ] || [ ! -s "$rootfs_tar" ]; then
  mirror=${REWARDGYM_DEBIAN_MIRROR:-$(apt_mirror "$SUITE" || true)}
  if [ -z "$mirror" ]; then
    log "no 'deb' source for suite $SUITE in /etc/apt/sources.list(.d); set REWARDGYM_DEBIAN_MIRROR"
    exit 1
  fi
  work=$(mktemp -d "$CACHE_DIR/$NAME-rootfs.XXXXXX")
  root="$work/rootfs"
  cleanup() {
    # debootstrap mounts /proc and /sys inside the target; never delete through a mount that is still there.
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
    [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    log "debootstrap failed"
    exit 1
  }

  # Keep later `apt-get install`s in derived images small too.
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-rewardgym-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF

  # No virtual environment here: each Dockerfile creates /opt/venv in its build stage (python3 -m venv, which
  # python3-venv makes work), the same way on this base and on python:3.11-slim, so the final image holds pip once.
  case ",$PACKAGES," in
    *,python3-venv,*) chroot "$root" /usr/bin/python3 -c 'import sys, venv, ensurepip; print("python", sys.version.split()[0])' >&2 ;;
    *) chroot "$root" /usr/bin/python3 --version >&2 ;;
  esac

  # Strip what a server image never reads; copyright files stay.
  find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* \
    "$root"/root/.cache "$root"/etc/hostname "$root"/etc/resolv.conf
  # Docker provides /etc/hostname and /etc/resolv.conf at run time; the host's must not leak into the image.
  : >"$root/etc/hostname"

  tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  # Older root filesystems of this suite/arch are stale (the recipe changed).
  find "$CACHE_DIR" -maxdepth 1 -name "$NAME-$SUITE-$arch-*.tar" ! -path "$rootfs_tar" -delete
  log "cached root filesystem: $rootfs_tar ($(du -h "$rootfs_tar" | cut -f1))"
else
  log "using cached root filesystem $rootfs_tar"
fi

old_id=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PYTHONUNBUFFERED=1' \
  --change "LABEL org.opencontainers.image.description=\"rewardgym $NAME: Debian $SUITE minbase + $PACKAGES\"" \
  --change 'CMD ["python3"]' \
  "$rootfs_tar" "$TAG" >/dev/null
log "imported $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"
# The image this one replaces would stay behind untagged; remove it unless a container still uses it.
if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$TAG")" ]; then
  docker image rm "$old_id" >/dev/null 2>&1 || true
fi
