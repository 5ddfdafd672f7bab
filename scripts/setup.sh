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
