"""Admin routes: registering environments by Docker image at run time, behind a bearer token.

Registering an image means running it, so these routes refuse any request without the token (401) or with a
wrong one (403), and the gateway refuses to start with them enabled and no token set.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rewardgym.http import HTTPProblem, json_response, read_json
from rewardgym.protocol import describe_validation_error
from rewardgym.server.runtimes.docker import DockerRuntime, DockerRuntimeError, ImageSpec

if TYPE_CHECKING:
    from rewardgym.server.router import Router

MAX_ADMIN_BODY_BYTES = 64 * 1024


class ImageRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(min_length=1, max_length=500)
    replicas: int = Field(default=1, ge=1, le=64)
    memory: str = "2g"
    cpus: float = Field(default=1.0, gt=0, le=256)
    processes: int | None = Field(default=None, ge=1, le=256)
    ready_timeout_s: float = Field(default=120.0, gt=0, le=600)
    sandbox_slots: int = Field(default=0, ge=0, le=64)


class AdminTokenMissing(ValueError):
    pass


def install_admin_routes(app: FastAPI, router: "Router", runtime: DockerRuntime, token: str | None) -> None:
    if not token:
        raise AdminTokenMissing("Image registration is enabled (Docker runtime) but no admin token is set: "
                                "pass --admin-token or set REWARDGYM_ADMIN_TOKEN")

    def authorize(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise HTTPProblem(401, "Expected an admin bearer token (Authorization: Bearer ...)",
                              headers={"WWW-Authenticate": "Bearer"})
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise HTTPProblem(403, "The admin token is wrong")

    @app.get("/v1/images", tags=["admin"])
    async def list_images(request: Request) -> Response:
        authorize(request)
        return json_response({"images": [
            {"image": spec.image, "replicas": spec.replicas,
             "workers": [{"name": h.name, "state": h.state} for h in runtime.handles_of(spec.image)]}
            for spec in runtime.images
        ]})

    @app.post("/v1/images", tags=["admin"], status_code=201, openapi_extra={"requestBody": {  # parsed by hand
        "required": True, "content": {"application/json": {"schema": ImageRegistration.model_json_schema()}}}})
    async def register_image(request: Request) -> Response:
        authorize(request)
        try:
            registration = ImageRegistration.model_validate(await read_json(request, MAX_ADMIN_BODY_BYTES))
            spec = ImageSpec(**registration.model_dump())
        except ValidationError as exc:
            raise HTTPProblem(422, describe_validation_error(exc, "image registration")) from exc
        except ValueError as exc:  # ImageSpec's own checks (e.g. whitespace in the name): was a 500
            raise HTTPProblem(422, str(exc)) from exc
        if any(spec.image == registration.image for spec in runtime.images):
            raise HTTPProblem(409, f"Image {registration.image} is already registered")
        existing = set(router.catalogue)
        try:
            handles = await runtime.add_image(spec)
        except DockerRuntimeError as exc:
            raise HTTPProblem(422, f"Image {registration.image} could not be registered: {exc}") from exc
        names = sorted({env.name for handle in handles for env in handle.envs})
        clashes = [name for name in names if name in existing]
        if clashes:
            await runtime.remove_image(registration.image)
            raise HTTPProblem(409, f"Image {registration.image} serves environments that already exist: "
                                   f"{', '.join(clashes)}", clashes=clashes)
        return json_response({"image": registration.image, "replicas": registration.replicas, "envs": names}, 201)

    @app.delete("/v1/images/{image:path}", tags=["admin"])
    async def unregister_image(image: str, request: Request) -> Response:
        authorize(request)
        if not any(spec.image == image for spec in runtime.images):
            raise HTTPProblem(404, f"Image {image} is not registered",
                              known_images=[spec.image for spec in runtime.images])
        await runtime.remove_image(image)
        return json_response({"image": image, "removed": True})
