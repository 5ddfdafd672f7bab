"""The longer API fuzzing run: schemathesis against the live OpenAPI schema of a local gateway (toy families and
math), and, with --docker, the admin routes of a Docker-runtime gateway with the token, without it and with a wrong
one. Counts the status codes and prints every failing check; PASS means no 5xx and every response within its
schema. tests/test_fuzz.py is the bounded version.

    python bench/fuzz.py --examples 200 [--docker]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Server, save  # noqa: E402
from tests.support.fuzzing import fuzz_schema  # noqa: E402

FAMILIES = "tests.support.toy_family:FAMILY,tests.support.toy_turns:FAMILY,math"
KNOWN_ENVS = ("toy_echo", "toy_counter", "toy_single", "gsm8k", "math")
ADMIN_TOKEN = "fuzz-admin-token"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and generation mode")
    parser.add_argument("--docker", action="store_true", help="also fuzz the admin routes (Docker runtime)")
    args = parser.parse_args()
    runs = {}
    started = time.monotonic()
    server = Server("--families", FAMILIES, "--processes", "2", "--max-body-bytes", str(256 * 1024))
    try:
        runs["local"] = fuzz_schema(server.url, examples=args.examples, known_envs=KNOWN_ENVS).as_dict()
    finally:
        server.stop()
    if args.docker:
        server = Server("--runtime", "docker", "--owner", "fuzz-bench", "--admin-token", ADMIN_TOKEN)
        try:
            for name, header, allowed in (("admin_token", f"Bearer {ADMIN_TOKEN}", None),
                                          ("admin_no_token", None, (401,)),
                                          ("admin_wrong_token", "Bearer wrong", (403,))):
                runs[name] = fuzz_schema(server.url, examples=args.examples, tag="admin", expect_statuses=allowed,
                                         headers={"Authorization": header} if header else None).as_dict()
        finally:
            server.stop()
    passed = all(run["server_errors"] == 0 and not run["failures"] for run in runs.values())
    path = save("fuzz", {"examples_per_operation_and_mode": args.examples, "elapsed_s": round(time.monotonic() - started, 1),
                         "runs": runs, "passed": passed})
    for name, run in runs.items():
        print(f"{name}: {run['cases']} cases, statuses {run['statuses']}, 5xx {run['server_errors']}, "
              f"{len(run['failures'])} failing checks; no invalid value to send for {run['unsatisfiable']}")
        for failure in run["failures"]:
            print("  ", failure.replace("\n", "\n   "))
    print(f"{'PASS' if passed else 'FAIL'} ({path})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
