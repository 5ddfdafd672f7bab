"""The short soak: bench/soak.py for about a minute (math, code and games on the local runtime, 3 clients; 15 s
quiet, then 45 s with a fault every ~2 s: scoring processes and at least one whole worker SIGKILLed) must print
PASS: no item lost, no normal item with another verdict than on the quiet server, no hang, and the server's memory,
processes, open file descriptors and temp files back near their start. The Docker version is
tests/docker/test_soak_docker.py; the 10-minute runs are `python bench/soak.py [--runtime docker]`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.bwrap  # the code family's sandboxes on the local runtime
def test_a_minute_of_mixed_hostile_and_faulty_load_loses_nothing(tmp_path):
    out = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--minutes", "0.75", "--quiet-minutes",
                           "0.25", "--clients", "3", "--fault-every-s", "2", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0 and done.stdout.rstrip().splitlines()[-1].startswith("PASS"), (
        done.stdout[-6000:] + done.stderr[-3000:])
    figures = json.loads(out.read_text())
    counts = figures["counts"]
    assert counts["items"] > 100 and counts["hostile_items"] > 0 and counts["malformed_requests"] > 0, counts
    assert counts["normal_as_expected"] > 0 and counts.get("wrong_verdicts", 0) == 0, counts
    assert counts.get("hangs", 0) == 0 and counts.get("items_lost", 0) == 0, counts
    assert figures["faults"].get("scoring_process", 0) > 0 and figures["faults"].get("worker", 0) > 0, figures
    assert not figures["resources"]["problems"], figures["resources"]
    assert figures["quiet"]["items_per_s"] > 0 and figures["throughput_ratio_faulty_to_quiet"] > 0, figures["quiet"]
