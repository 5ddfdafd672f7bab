"""The declarative deployment file (TOML), read by `rewardgym serve --config`.

    [[images]]                      # one table per image; each runs as `replicas` worker containers
    image = "rewardgym/math:latest"
    replicas = 2
    memory = "2g"                   # per container
    cpus = 1.0                      # per container
    processes = 1                   # scoring processes per container (default: round(cpus))
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from rewardgym.server.admin import ImageRegistration
from rewardgym.protocol import describe_validation_error
from rewardgym.server.runtimes.docker import ImageSpec


class DeploymentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    images: list[ImageRegistration] = []

    def image_specs(self) -> list[ImageSpec]:
        return [ImageSpec(**image.model_dump()) for image in self.images]


class ConfigError(ValueError):
    pass


M = TypeVar("M", bound=BaseModel)


def read_toml_model(path: str | Path, model: type[M]) -> M:
    """``path`` (TOML) validated by ``model``; every failure is a ConfigError that names the file."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"Cannot read config {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config {path} is not valid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, f"config {path}")) from exc


def load_config(path: str | Path) -> DeploymentConfig:
    config = read_toml_model(path, DeploymentConfig)
    names = [image.image for image in config.images]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"Config {path} lists {', '.join(duplicates)} more than once")
    return config
