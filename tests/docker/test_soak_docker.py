"""The short soak in Docker mode: bench/soak.py --runtime docker, math, code and games in worker containers and
the code family's programs in two warm sandbox containers; 3 clients, 30 s quiet, then 30 s with a fault every
~1.5 s: scoring processes inside worker containers SIGKILLed, worker containers and sandbox containers
`docker kill`ed (only the soak's own, found by label). Must print PASS: no item lost, no normal item with another
verdict than on the quiet server, no hang, resources back near their start (containers, and the processes, fds and
temp files inside them, counted too), and no container left once the gateway stopped. About 2 minutes here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.docker


def test_half_a_minute_of_killed_containers_loses_nothing(built_images, tmp_path):
    out = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--runtime", "docker", "--minutes", "0.5",
                           "--quiet-minutes", "0.5", "--clients", "3", "--fault-every-s", "1.5", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0 and done.stdout.rstrip().splitlines()[-1].startswith("PASS"), (
        done.stdout[-6000:] + done.stderr[-3000:])
    figures = json.loads(out.read_text())
    counts, faults = figures["counts"], figures["faults"]
    assert counts["items"] > 50 and counts["hostile_items"] > 0 and counts["normal_as_expected"] > 0, counts
    assert counts.get("wrong_verdicts", 0) == counts.get("hangs", 0) == counts.get("items_lost", 0) == 0, counts
    assert faults.get("scoring_process", 0) > 0 and faults.get("sandbox_container", 0) > 0, faults
    assert faults.get("worker_container", 0) > 0, faults
    assert figures["resources"]["before"]["containers"] == 5 and not figures["resources"]["problems"], figures
    assert figures["quiet"]["items_per_s"] > 0 and figures["throughput_ratio_faulty_to_quiet"] > 0, figures["quiet"]
