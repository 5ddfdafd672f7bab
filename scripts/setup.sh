#!/usr/bin/env bash
# Set up a virtual environment in .venv with rewardgym, every environment family under environments/, and the
# test tools, at the versions pinned in constraints.txt. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Resolve the interpreter once: the `python3` on PATH may be a slow version-manager shim.
.venv/bin/python -m pip install -q --upgrade "pip>=23" >/dev/null
families=()
for pyproject in environments/*/pyproject.toml; do
  families+=(-e "$(dirname "$pyproject")")
done
.venv/bin/python -m pip install -q -c constraints.txt -e sandboxes -e ".[server,test]" "${families[@]}" \
  -e "client[trl,gym]" -e "trainer[hf]"
# Without Docker, model-written code runs in sandboxes under bubblewrap (docs/hpc.md); code environments refuse to
# run without it (unless `--unsafe-sandbox`). Installed here when we are root; otherwise say how.
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }
  else
    echo "setup: bubblewrap (bwrap) is missing: without Docker, code environments will refuse to run programs." >&2
    echo "setup: ask an administrator for it (Debian/Ubuntu: apt-get install bubblewrap; RHEL: dnf install" >&2
    echo "setup: bubblewrap), with unprivileged user namespaces allowed (sysctl user.max_user_namespaces > 0)." >&2
  fi
fi
