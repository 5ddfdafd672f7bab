# rewardgym/<family>: the worker of one environment family, for every family under environments/. Built by
# scripts/build-images.sh with the repository root as context:
#   docker build --network none -f docker/family.Dockerfile --build-arg FAMILY=math -t rewardgym/math:latest .
# Needs wheelhouse/<family>/ (scripts/build-wheelhouse.sh); works with the legacy builder (no BuildKit features).
# A new family needs no edit here. Extension point: a family that needs more Debian packages lists them in
# environments/<family>/debian-packages (comma-separated); build-images.sh then builds its base image with them
# (rewardgym/base-<family>:bookworm) and passes it as BASE_IMAGE.
ARG BASE_IMAGE=rewardgym/base:bookworm

# 1. Third-party dependencies, from the wheelhouse only. Cached until wheelhouse/<family>/ changes.
FROM ${BASE_IMAGE} AS deps
ARG FAMILY
ENV PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN test -n "${FAMILY}" || { echo "expected --build-arg FAMILY=<family>" >&2; exit 1; }; \
    python3 -m venv /opt/venv && /opt/venv/bin/pip uninstall -q -y setuptools
COPY wheelhouse/${FAMILY}/ /wheelhouse/
RUN /opt/venv/bin/pip install -q --no-index --find-links /wheelhouse -r /wheelhouse/requirements.txt

# 2. Our source, built into wheels (the build backend, setuptools, also comes from the wheelhouse): rewardgym, the
#    sandbox package (its client side, for families whose environments run code in sandboxes) and the family.
FROM deps AS build
ARG FAMILY
COPY pyproject.toml /src/rewardgym/pyproject.toml
COPY rewardgym/ /src/rewardgym/rewardgym/
COPY sandboxes/ /src/sandboxes/
COPY environments/${FAMILY}/ /src/family/
RUN /opt/venv/bin/pip wheel -q --no-index --find-links /wheelhouse --no-deps -w /dist /src/rewardgym /src/sandboxes /src/family

# 3. The image: the base, the dependency layer, then our small wheels on top.
FROM ${BASE_IMAGE}
ARG FAMILY
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Workers run as uid 1000. /run/rewardgym (the worker's Unix socket) is mode 0777 and /run/sandbox (sandbox
# sockets, for families that use them) 1777, so named volumes mounted there start writable; a host directory
# bind-mounted there must be made writable by whoever creates it.
RUN getent group 1000 >/dev/null || echo 'rewardgym:x:1000:' >>/etc/group; \
    getent passwd 1000 >/dev/null || \
      echo 'rewardgym:x:1000:1000:rewardgym:/home/rewardgym:/usr/sbin/nologin' >>/etc/passwd; \
    mkdir -p /home/rewardgym /run/rewardgym /run/sandbox && chown 1000:1000 /home/rewardgym && \
    chmod 0777 /run/rewardgym && chmod 1777 /run/sandbox
COPY --from=deps /opt/venv/ /opt/venv/
COPY --from=build /dist/ /tmp/dist/
RUN pip install -q --no-index --no-deps /tmp/dist/*.whl && rm -rf /tmp/dist
LABEL org.opencontainers.image.title="rewardgym/${FAMILY}" \
      org.opencontainers.image.description="rewardgym worker for the ${FAMILY} family (no network needed)"
USER 1000:1000
WORKDIR /home/rewardgym
# The worker contract: serve the worker protocol on the Unix socket $REWARDGYM_SOCKET (the Docker runtime sets it
# per container; compose uses this default) with $REWARDGYM_PROCESSES scoring processes. Families that run code in
# sandboxes find their slots in $REWARDGYM_SANDBOX_DIR when it is set (compose and the Docker runtime set it).
ENV REWARDGYM_FAMILY=${FAMILY} REWARDGYM_SOCKET=/run/rewardgym/${FAMILY}.sock
CMD ["sh", "-c", "exec rewardgym worker --family \"$REWARDGYM_FAMILY\""]
