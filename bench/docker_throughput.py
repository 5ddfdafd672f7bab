"""Throughput of `POST /score/math` through the Docker runtime against the local runtime, and compose start-up.

    .venv/bin/python bench/docker_throughput.py [--items 1000] [--repeats 5]

Needs Docker and the images (scripts/build-images.sh). Both gateways run at once, each with 2 scoring processes
(the Docker one in one container limited to 2 CPUs), and are measured in alternation on the same batch so they
see the same machine. Then the time from `docker compose up` to every environment ready, over a few runs.
Figures go to bench/results/docker_throughput.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Server, free_port, median, save  # noqa: E402
from bench.math_throughput import gateway_batch, mixed_items  # noqa: E402


def compose_startup_s() -> float:
    """Seconds from `compose up -d` to /v1/envs listing every family's environments as ready."""
    compose = ["docker", "compose"] if subprocess.run(["docker", "compose", "version"],
                                                      capture_output=True).returncode == 0 else ["docker-compose"]
    if compose == ["docker-compose"] and not shutil.which("docker-compose"):
        raise SystemExit("no docker compose (scripts/docker-up.sh installs docker-compose)")
    port = free_port()
    env = {**os.environ, "COMPOSE_PROJECT_NAME": f"rgbench{uuid.uuid4().hex[:6]}", "REWARDGYM_PORT": str(port)}
    families = {p.parent.name for p in ROOT.glob("environments/*/pyproject.toml")}
    command = [*compose, "-f", str(ROOT / "docker-compose.yml")]
    started = time.perf_counter()
    subprocess.run([*command, "up", "-d"], check=True, capture_output=True, env=env, timeout=300)
    try:
        while True:
            try:
                envs = httpx.get(f"http://127.0.0.1:{port}/v1/envs", timeout=2).json()["envs"]
                if {e["family"] for e in envs if e["status"] == "ready"} >= families:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > 300:
                raise RuntimeError("compose did not become ready in 300 s")
            time.sleep(0.05)
    finally:
        subprocess.run([*command, "down", "-v"], check=True, capture_output=True, env=env, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compose-runs", type=int, default=3)
    args = parser.parse_args()

    items = mixed_items(args.items, seed=3)
    local = Server("--families", "math", "--processes", "2")
    docker = Server("--runtime", "docker", "--config", str(ROOT / "deploy" / "rewardgym.toml"),
                    "--owner", f"bench-{uuid.uuid4().hex[:6]}", "--admin-token", uuid.uuid4().hex)
    try:
        for server in (local, docker):
            gateway_batch(server.url, items[:100])
        local_runs, docker_runs = [], []
        for repeat in range(args.repeats):
            local_runs.append(gateway_batch(local.url, items)[0])
            docker_runs.append(gateway_batch(docker.url, items)[0])
            print(f"run {repeat + 1}: local {local_runs[-1]:7.1f} items/s   docker {docker_runs[-1]:7.1f} items/s",
                  flush=True)
    finally:
        local.stop()
        docker.stop()
    ratios = [d / loc for d, loc in zip(docker_runs, local_runs)]
    print(f"median: local {median(local_runs):.1f} items/s, docker {median(docker_runs):.1f} items/s, "
          f"median of per-run ratios docker/local {median(ratios):.2f}x (target >= 0.9x)")

    startups = [compose_startup_s() for _ in range(args.compose_runs)]
    for run, seconds in enumerate(startups, 1):
        print(f"compose up -> all environments ready, run {run}: {seconds:.1f} s")
    print(f"median compose start-up: {median(startups):.1f} s")

    path = save("docker_throughput", {
        "items": args.items, "local_items_per_s": local_runs, "docker_items_per_s": docker_runs,
        "median_local_items_per_s": round(median(local_runs), 1),
        "median_docker_items_per_s": round(median(docker_runs), 1),
        "median_of_per_run_ratios": round(median(ratios), 3),
        "compose_startup_s": [round(s, 2) for s in startups], "median_compose_startup_s": round(median(startups), 2),
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
