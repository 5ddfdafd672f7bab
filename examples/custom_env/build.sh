#!/usr/bin/env bash
# Build my-org/reverse:latest: a wheel of this package on the host, then the image, offline.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=../..
"$ROOT/scripts/build-images.sh" >/dev/null   # the rewardgym/sdk image this one starts from (seconds if built)
rm -rf dist build ./*.egg-info
"$ROOT/.venv/bin/python" -m pip wheel -q --no-deps -w dist .
rm -rf build ./*.egg-info
docker build -q --network none -t my-org/reverse:latest . >/dev/null
echo "built my-org/reverse:latest"
