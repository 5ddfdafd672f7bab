#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine: install docker.io (and debootstrap, used to build the base
# image) from Debian's packages if missing, then start dockerd without a bridge or iptables rules (no network for
# containers; they are reached over Unix sockets). Idempotent: does nothing when `docker info` already answers.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "docker-up: docker.io/debootstrap missing and not root; install them or run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io debootstrap >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup dockerd --bridge=none --iptables=false >/var/log/rewardgym-dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "docker-up: dockerd did not answer within 60 s; see /var/log/rewardgym-dockerd.log" >&2
tail -n 20 /var/log/rewardgym-dockerd.log >&2 || true
exit 1
