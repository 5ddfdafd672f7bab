"""The sandbox containers' hardening is defined once (`SandboxManager.docker_run_args`); docker-compose.yml's
sandbox services must say the same, so a flag changed in one place and not the other fails here."""

from __future__ import annotations

from pathlib import Path

import yaml

from rewardgym_sandboxes.manager import SandboxManager

ROOT = Path(__file__).resolve().parents[2]


def compose_sandbox_services() -> dict[str, dict]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    sandboxes = {name: service for name, service in services.items() if name.startswith("sandbox")}
    assert sandboxes, "docker-compose.yml has no sandbox service"
    return sandboxes


def as_compose(run_args: dict) -> dict:
    """The isolation flags of `docker_run_args`, in compose's spelling."""
    return {
        "network_mode": run_args["network_mode"],
        "read_only": run_args["read_only"],
        "tmpfs": sorted(f"{path}:{options}" for path, options in run_args["tmpfs"].items()),
        "shm_size": run_args["shm_size"],
        "pids_limit": run_args["pids_limit"],
        "mem_limit": run_args["mem_limit"],
        "memswap_limit": run_args["memswap_limit"],
        "cpus": run_args["nano_cpus"] / 1e9,
        "cap_drop": run_args["cap_drop"],
        "cap_add": sorted(run_args["cap_add"]),
        "security_opt": run_args["security_opt"],
    }


def test_compose_sandbox_services_use_the_managers_hardening_flags():
    manager = SandboxManager(1, socket_dir="/nonexistent/sandbox", client=object())
    expected = as_compose(manager.docker_run_args(0))
    for name, service in compose_sandbox_services().items():
        declared = {key: service.get(key) for key in expected}
        declared["tmpfs"] = sorted(declared["tmpfs"] or [])
        declared["cap_add"] = sorted(declared["cap_add"] or [])
        assert declared == expected, f"docker-compose.yml service {name} differs from SandboxManager's flags"
