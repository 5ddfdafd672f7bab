"""A gateway app for `uvicorn --factory --uds`: the toy family behind a Unix socket (the CLI binds TCP only)."""

from fastapi import FastAPI

from rewardgym.server.gateway import create_app
from rewardgym.server.runtimes.local import LocalRuntime

from tests.conftest import TOY_FAMILY


def create() -> FastAPI:
    return create_app(LocalRuntime([TOY_FAMILY], processes=1))
