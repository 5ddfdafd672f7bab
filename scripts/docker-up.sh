#!/usr/bin/env bash
# Make sure this machine has what the Docker tests and images need, and a Docker engine that answers:
#   - from Debian's packages, when missing: docker.io, debootstrap (builds the base image), docker-compose (v1);
#   - dockerd started without a bridge or iptables rules (containers get no network; they are reached over
#     Unix sockets), unless `docker info` already answers.
# Idempotent: a second run installs and starts nothing.
set -euo pipefail

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "docker-up: missing ${missing[*]} and not root; install them or run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  # Its own session: the daemon must not die with the shell or job that happened to start it.
  setsid nohup dockerd --bridge=none --iptables=false >/var/log/rewardgym-dockerd.log 2>&1 < /dev/null &
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
