#!/usr/bin/env bash
# Set up and run the whole test suite. Under CI=true, Docker and a one-node Slurm cluster are installed and started
# first, and tests marked `docker` or `slurm` fail instead of skipping when they are missing. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
if [ "${CI:-}" = "true" ]; then
  scripts/docker-up.sh || exit 1
  scripts/slurm-up.sh >/dev/null || exit 1  # a one-node Slurm cluster, and bubblewrap, for tests/hpc
fi

.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
