"""The container images: built offline by scripts/build-images.sh, and run with no network.

One session fixture runs the build script (seconds when nothing changed, a few minutes on a bare machine).
Outside CI these tests skip when `docker info` fails; under CI=true that is a failure instead.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.docker

from tests.docker.conftest import BUILD_TIMEOUT_S, FAMILIES, ROOT


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited with {result.returncode}:\n{result.stderr}")
    return result


def run_offline(image: str, *command: str, extra: tuple[str, ...] = ()) -> str:
    """Run a command in a throwaway container with no network; return its stdout."""
    return docker("run", "--rm", "--network", "none", *extra, image, *command).stdout


def layers(image: str) -> list[str]:
    return json.loads(docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", image).stdout)


def test_every_image_is_built(built_images: list[str]) -> None:
    assert "math" in FAMILIES
    for image in built_images:
        assert docker("image", "inspect", image, check=False).returncode == 0, f"{image} was not built"


def test_math_image_imports_its_packages_offline(built_images: list[str]) -> None:
    out = run_offline("rewardgym/math:latest", "python", "-c",
                      "import rewardgym, rewardgym_math, sympy, math_verify; print('ok')")
    assert out.strip() == "ok"


def test_gateway_image_has_the_docker_sdk(built_images: list[str]) -> None:
    out = run_offline("rewardgym/gateway:latest", "python", "-c", "import rewardgym, docker; print('ok')")
    assert out.strip() == "ok"


def test_container_without_network_has_only_loopback(built_images: list[str]) -> None:
    out = run_offline("rewardgym/math:latest", "python", "-c",
                      "import os, socket; print(sorted(os.listdir('/sys/class/net')));"
                      "print(sorted(name for _, name in socket.if_nameindex()))")
    assert out.splitlines() == ["['lo']", "['lo']"]


def test_math_worker_runs_as_uid_1000_and_can_write_the_socket_dir(built_images: list[str]) -> None:
    out = run_offline("rewardgym/math:latest", "python", "-c",
                      "import os; open('/run/rewardgym/probe', 'w').close(); print(os.getuid(), os.getgid())")
    assert out.split() == ["1000", "1000"]


def test_math_image_serves_the_worker_protocol_on_its_socket(built_images: list[str], tmp_path: Path) -> None:
    """The image's own CMD: the worker creates /run/rewardgym/math.sock and answers /v1/envs over it."""
    socket_dir = tmp_path / "run"
    socket_dir.mkdir()
    socket_dir.chmod(0o777)  # as the Docker runtime does: the worker inside runs as uid 1000
    container = docker("run", "-d", "--rm", "--network", "none", "-e", "REWARDGYM_PROCESSES=1",
                       "-v", f"{socket_dir}:/run/rewardgym", "rewardgym/math:latest").stdout.strip()
    try:
        sock = socket_dir / "math.sock"
        deadline = time.monotonic() + 90
        envs = None
        while time.monotonic() < deadline and envs is None:
            running = docker("inspect", "-f", "{{.State.Running}}", container, check=False).stdout.strip()
            assert running == "true", "worker container exited:\n" + docker("logs", container, check=False).stderr
            if sock.exists():
                try:
                    with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=10) as client:
                        response = client.get("http://worker/v1/envs")
                    if response.status_code == 200:
                        envs = response.json()
                except httpx.TransportError:
                    pass
            time.sleep(0.5)
        assert envs is not None, "no answer on math.sock within 90 s:\n" + docker("logs", container, check=False).stderr
        assert "math" in json.dumps(envs)
    finally:
        docker("rm", "-f", container, check=False)


@pytest.mark.slow
def test_rebuild_with_nothing_changed_reuses_the_dependency_layers(built_images: list[str]) -> None:
    """A second run is all cache hits; at least everything below our own wheels (the last 2 layers) is reused."""
    before = {image: layers(image) for image in built_images}
    started = time.monotonic()
    rebuild = subprocess.run([str(ROOT / "scripts" / "build-images.sh")], capture_output=True, text=True,
                             timeout=BUILD_TIMEOUT_S)
    elapsed = time.monotonic() - started
    assert rebuild.returncode == 0, rebuild.stderr[-4000:]
    for image in built_images:
        assert layers(image)[:-2] == before[image][:-2], f"{image}: dependency layers were rebuilt"
    assert elapsed < 300, f"a rebuild with nothing changed took {elapsed:.0f} s"
