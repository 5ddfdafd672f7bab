#!/usr/bin/env bash
# Set up and run the whole test suite. Under CI=true, Docker and a one-node Slurm cluster are installed and started
# first, and tests marked `docker` or `slurm` fail instead of skipping when they are missing. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
if [ "${CI:-}" = "true" ]; then
  scripts/docker-up.sh || exit 1
  scripts/slurm-up.sh >/dev/null || exit 1  # a one-node Slurm cluster, and bubblewrap, for tests/hpc
  if ! command -v chromium >/dev/null 2>&1; then  # Debian's headless browser, for tests/test_dashboard.py
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || exit 1
  fi
fi

.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
