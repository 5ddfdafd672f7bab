"""docker-compose.yml stays in step with the families: one worker service per family under environments/, and
the gateway expects exactly those (so /readyz under `docker compose up` waits for all of them)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_every_family_has_a_compose_service_and_the_gateway_expects_them_all():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    families = {path.parent.name for path in ROOT.glob("environments/*/pyproject.toml")}
    workers = {name for name, service in services.items()
               if name != "gateway" and service["image"].split(":")[0] == f"rewardgym/{name}"}
    assert workers == families
    command = services["gateway"]["command"]
    expected = command[command.index("--expect-families") + 1].split(",")
    assert sorted(expected) == sorted(families)
    for family in families:
        assert services[family]["network_mode"] == "none", f"the {family} worker must have no network"
