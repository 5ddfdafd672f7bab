"""Fixtures of the Docker tests: every image built once per session by scripts/build-images.sh.

Whether Docker tests run, skip (no engine, outside CI) or fail (no engine under CI=true) is decided by the
`docker` marker's hook in tests/conftest.py, before these fixtures run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = sorted(p.parent.name for p in ROOT.glob("environments/*/pyproject.toml"))
IMAGES = ["rewardgym/gateway:latest", *(f"rewardgym/{family}:latest" for family in FAMILIES)]
BUILD_TIMEOUT_S = 1800


@pytest.fixture(scope="session")
def built_images() -> list[str]:
    """Seconds when nothing changed; a few minutes on a bare machine."""
    build = subprocess.run([str(ROOT / "scripts" / "build-images.sh")], capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT_S)
    if build.returncode != 0:
        pytest.fail(f"scripts/build-images.sh exited with {build.returncode}:\n{build.stderr[-4000:]}")
    return IMAGES
