#!/usr/bin/env bash
# Fill ./wheelhouse/ on the host (which can reach PyPI) with every wheel the images install, so that
# `docker build --network none` can `pip install --no-index --find-links /wheelhouse`.
#
# Layout (one directory per image, so a new family never invalidates another image's dependency layer):
#   wheelhouse/gateway/   third-party wheels of rewardgym (pyproject.toml at the repository root) + the Docker SDK
#   wheelhouse/<family>/  third-party wheels of rewardgym + environments/<family> (one per environments/*/pyproject.toml)
#       requirements.txt  exact pins of the runtime wheels in that directory (what the Dockerfiles install)
#       setuptools-*.whl  the build backend, used only to build our own source inside the image; not in requirements
#   wheelhouse/local/     wheels of our own packages (rewardgym, rewardgym-<family>), built from a clean copy of the
#                         source, for installing on hosts without Docker (not sent to `docker build`)
#   wheelhouse/.stamps/   hashes of each directory's inputs
#
# Usage: scripts/build-wheelhouse.sh [--force]
# Environment: PYTHON (default .venv/bin/python): a Python 3.11 with pip, matching the images' Python.
# Pins: constraints.txt at the repository root, when present, constrains every resolution.
# Idempotent: a directory is resolved again only when its inputs (pyproject files, constraints.txt, Python version,
# pip configuration, this script) change; our own wheels only when their source changes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WH="$ROOT/wheelhouse"
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
SELF="$ROOT/scripts/build-wheelhouse.sh"

# What the gateway image needs beyond rewardgym's own dependencies: the Docker SDK, which
# `rewardgym serve --runtime docker` imports (the gateway starts the family containers).
GATEWAY_REQUIREMENTS="docker"

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  *) echo "build-wheelhouse: unknown argument '$1' (expected --force)" >&2; exit 2 ;;
esac

log() { echo "build-wheelhouse: $*" >&2; }

if ! pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
  log "no Python at $PYTHON (set PYTHON=...)"
  exit 1
fi
if [ "$pyver" != 3.11 ]; then
  log "$PYTHON is Python $pyver; the images run Debian bookworm's Python 3.11, so compiled wheels must be cp311"
  exit 1
fi
pip() { "$PYTHON" -m pip --disable-pip-version-check "$@"; }

# The project name declared in a pyproject.toml.
project_name() { "$PYTHON" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["name"])' "$1"; }

# sha256 of the given files (missing ones hash as absent) plus the Python version and any pip constraints.
inputs_hash() {
  {
    echo "python $pyver"
    for f in "$@"; do
      if [ -f "$f" ]; then sha256sum "$f" | sed "s|$ROOT/||"; else echo "absent $f"; fi
    done
    pip config list 2>/dev/null | grep -i constraint || true
    env | grep '^PIP_' | sort || true
    local c
    for c in $(pip config list 2>/dev/null | sed -n "s/.*constraint='\(.*\)'/\1/p") ${PIP_CONSTRAINT:-}; do
      [ -f "$c" ] && sha256sum "$c"
    done
  } | sha256sum | cut -c1-64
}

# The versions the project is tested with, where the repository pins them.
constraints=()
[ -f "$ROOT/constraints.txt" ] && constraints=(-c "$ROOT/constraints.txt")

# Our own distribution names (normalised), which must never be looked up on an index nor pinned from one.
own_names=("$(project_name "$ROOT/pyproject.toml")" "$(project_name "$ROOT/sandboxes/pyproject.toml")")
families=()
for pp in "$ROOT"/environments/*/pyproject.toml; do
  [ -f "$pp" ] || continue
  families+=("$(basename "$(dirname "$pp")")")
  own_names+=("$(project_name "$pp")")
done
normalise() { echo "$1" | tr 'A-Z_.' 'a-z--'; }
is_own() {
  local n
  n=$(normalise "$1")
  for o in "${own_names[@]}"; do [ "$n" = "$(normalise "$o")" ] && return 0; done
  return 1
}

# resolve TARGET "EXTRA REQUIREMENTS" PROJECT_DIR...: download the third-party closure of the projects (and of the
# extra requirements) into wheelhouse/TARGET.
resolve() {
  local target=$1 extra=() ; read -r -a extra <<<"$2"; shift 2
  local dir="$WH/$target" stamp="$WH/.stamps/$target" tmp pyprojects=() d
  for d in "$@"; do pyprojects+=("${d%%\[*}/pyproject.toml"); done  # a directory may name extras: "$ROOT[server]"
  local want
  want=$(inputs_hash "$SELF" "$ROOT/constraints.txt" "${pyprojects[@]}")
  if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dir/requirements.txt" ]; then
    log "$target: up to date ($(grep -vc '^#' "$dir/requirements.txt") runtime wheels)"
    return 0
  fi
  log "$target: resolving $(for d in "$@"; do printf '%s ' ".${d#"$ROOT"}"; done)"
  tmp=$(mktemp -d "$WH/.tmp-$target.XXXXXX")
  # Local project directories are passed as requirements, so `rewardgym` is taken from this tree, never an index.
  if ! pip download --quiet --only-binary :all: "${constraints[@]}" -d "$tmp" "$@" "${extra[@]}" "setuptools>=68" \
      >"$tmp.log" 2>&1; then
    log "$target: some dependency has no wheel; building wheels from source distributions where needed"
    cat "$tmp.log" >&2
    local had_build=()
    for d in "${@%%\[*}"; do [ -d "$d/build" ] && had_build+=("$d/build"); done
    pip wheel --quiet --prefer-binary "${constraints[@]}" -w "$tmp" "$@" "${extra[@]}" "setuptools>=68" >"$tmp.log" 2>&1 || {
      cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; exit 1; }
    for d in "${@%%\[*}"; do  # the in-tree build leftovers of our own packages, unless they were there before
      case " ${had_build[*]} " in *" $d/build "*) ;; *) rm -rf "$d/build" ;; esac
    done
  fi
  rm -f "$tmp.log"
  {
    echo "# Generated by scripts/build-wheelhouse.sh: the runtime wheels of image '$target'. Do not edit."
    local whl name version
    for whl in "$tmp"/*.whl; do
      name=$(basename "$whl" | cut -d- -f1)
      version=$(basename "$whl" | cut -d- -f2)
      if is_own "$name"; then rm -f "$whl"; continue; fi
      [ "$(normalise "$name")" = setuptools ] && continue
      echo "$name==$version"
    done | LC_ALL=C sort -f
  } >"$tmp/requirements.txt"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  chmod 755 "$dir"
  mkdir -p "$WH/.stamps"
  echo "$want" >"$stamp"
  log "$target: $(grep -vc '^#' "$dir/requirements.txt") runtime wheels, $(du -sh "$dir" | cut -f1)"
}

# build_local PROJECT_DIR: wheel of one of our own packages into wheelhouse/local, from a clean copy of what goes into
# it: pyproject.toml, licence files, the README if declared, and the import package named after the project (an in-tree
# setuptools build would reuse a stale build/ directory and could ship deleted modules).
build_local() {
  local src=$1 name pkg key stamp copy
  name=$(normalise "$(project_name "$src/pyproject.toml")")
  pkg=$(echo "$name" | tr - _)
  stamp="$WH/.stamps/local-$name"
  copy=$(mktemp -d)
  cp -p "$src/pyproject.toml" "$copy/"
  find "$src" -maxdepth 1 -type f \( -name 'LICEN[CS]E*' -o -name 'COPYING*' -o -name 'NOTICE*' -o -name 'AUTHORS*' \
    -o -name 'setup.cfg' -o -name 'setup.py' -o -name 'MANIFEST.in' \) -exec cp -p {} "$copy/" \;
  if grep -q '^readme' "$src/pyproject.toml"; then find "$src" -maxdepth 1 -name 'README*' -exec cp -p {} "$copy/" \;; fi
  if [ -d "$src/$pkg" ]; then
    (cd "$src" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - "$pkg") | tar -C "$copy" -xf -
  else  # a package mapped from its folder itself (sandboxes/ -> rewardgym_sandboxes): its Python files
    (cd "$src" && find . -name '*.py' -not -path '*/__pycache__/*' -print0 | tar --null -T - -cf -) | tar -C "$copy" -xf -
  fi
  key=$( (cd "$copy" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum; echo "python $pyver") \
         | sha256sum | cut -c1-64)
  if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && ls "$WH/local/$pkg"-*.whl >/dev/null 2>&1
  then
    rm -rf "$copy"
    return 0
  fi
  rm -f "$WH/local/$pkg"-*.whl
  # The build backend comes from the gateway directory, so this step needs no index.
  pip wheel --quiet --no-deps --no-index --find-links "$WH/gateway" -w "$WH/local" "$copy" >"$copy.log" 2>&1 || {
    cat "$copy.log" >&2; rm -rf "$copy" "$copy.log"; exit 1; }
  rm -rf "$copy" "$copy.log"
  echo "$key" >"$stamp"
  log "local: built $(cd "$WH/local" && ls "$pkg"-*.whl)"
}

mkdir -p "$WH/local"
# One run at a time: a second one (another terminal, a test session) waits here.
exec 9>"$WH/.lock"
flock 9
rm -rf "$WH"/.tmp-*
resolve gateway "$GATEWAY_REQUIREMENTS" "$ROOT[server]" "$ROOT/sandboxes"
for fam in "${families[@]}"; do
  resolve "$fam" "" "$ROOT[server]" "$ROOT/sandboxes" "$ROOT/environments/$fam"
done
build_local "$ROOT"
build_local "$ROOT/sandboxes"
for fam in "${families[@]}"; do
  build_local "$ROOT/environments/$fam"
done

# Directories of families that no longer exist would only waste space.
for d in "$WH"/*/; do
  t=$(basename "$d")
  case " gateway local ${families[*]} " in *" $t "*) ;; *) log "removing stale $d"; rm -rf "$d" "$WH/.stamps/$t" ;; esac
done
log "done: $(du -sh "$WH" | cut -f1) in $WH"
