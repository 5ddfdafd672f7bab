# rewardgym/gateway: the public HTTP API, starting each family's worker container through the Docker runtime.
# Built by scripts/build-images.sh with the repository root as context:
#   docker build --network none -f docker/gateway.Dockerfile -t rewardgym/gateway:latest .
# Needs wheelhouse/gateway/ (scripts/build-wheelhouse.sh); works with the legacy builder (no BuildKit features).
ARG BASE_IMAGE=rewardgym/base:bookworm

# 1. Third-party dependencies, from the wheelhouse only. Cached until wheelhouse/gateway/ changes.
FROM ${BASE_IMAGE} AS deps
ENV PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip uninstall -q -y setuptools
COPY wheelhouse/gateway/ /wheelhouse/
RUN /opt/venv/bin/pip install -q --no-index --find-links /wheelhouse -r /wheelhouse/requirements.txt

# 2. Our source, built into a wheel (the build backend, setuptools, also comes from the wheelhouse).
FROM deps AS build
COPY pyproject.toml /src/rewardgym/pyproject.toml
COPY rewardgym/ /src/rewardgym/rewardgym/
COPY sandboxes/ /src/sandboxes/
RUN /opt/venv/bin/pip wheel -q --no-index --find-links /wheelhouse --no-deps -w /dist /src/rewardgym /src/sandboxes

# 3. The image: the base, the dependency layer, then our wheel on top.
FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# /run/rewardgym holds the workers' Unix sockets (a volume shared with the worker containers, mode 0777 so the
# workers, uid 1000, can create theirs). The gateway itself runs as root: it drives the Docker socket, which is
# root-equivalent anyway and whose group id differs from host to host (see docs/images.md to run it as uid 1000).
RUN getent group 1000 >/dev/null || echo 'rewardgym:x:1000:' >>/etc/group; \
    getent passwd 1000 >/dev/null || \
      echo 'rewardgym:x:1000:1000:rewardgym:/home/rewardgym:/usr/sbin/nologin' >>/etc/passwd; \
    mkdir -p /home/rewardgym /run/rewardgym && chown 1000:1000 /home/rewardgym && chmod 0777 /run/rewardgym
COPY --from=deps /opt/venv/ /opt/venv/
COPY --from=build /dist/ /tmp/dist/
RUN pip install -q --no-index --no-deps /tmp/dist/*.whl && rm -rf /tmp/dist
LABEL org.opencontainers.image.title="rewardgym/gateway" \
      org.opencontainers.image.description="rewardgym gateway: one HTTP scoring API over every environment"
CMD ["rewardgym", "serve", "--runtime", "docker"]
