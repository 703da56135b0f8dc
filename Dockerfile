# habot: `docker build -t habot .` then
#   docker run --env-file .env -v /etc/habot:/etc/habot:ro -v habot-data:/var/lib/habot habot
# BASE may be any Debian-like image with or without Python 3.11+ (python3 is installed if missing).
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
RUN if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi
RUN python3 -m venv /opt/habot
# PIP_CERT: a CA bundle for a TLS-intercepting proxy, mounted at build time (optional).
ARG PIP_CERT=
# Exactly the locked versions (hashes checked), then habot itself with nothing more pulled in
COPY requirements/runtime.txt /src/requirements/runtime.txt
RUN if [ -n "$PIP_CERT" ]; then export PIP_CERT; else unset PIP_CERT; fi; \
    /opt/habot/bin/pip install --no-cache-dir --disable-pip-version-check \
        --require-hashes --no-deps -r /src/requirements/runtime.txt
COPY pyproject.toml README.md /src/
COPY habot /src/habot
RUN /opt/habot/bin/pip install --no-cache-dir --disable-pip-version-check \
        --no-deps --no-build-isolation /src \
    && /opt/habot/bin/pip check

FROM ${BASE}
RUN if ! command -v python3 >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends python3 \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/habot --create-home habot
COPY --from=build /opt/habot /opt/habot
ENV PATH=/opt/habot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HABOT_CONFIG=/etc/habot/habot.yaml \
    HABOT_DB=/var/lib/habot/habot.sqlite3 \
    HABOT_HTTP_HOST=0.0.0.0 \
    HABOT_PROBES_HOST=0.0.0.0
USER habot
WORKDIR /var/lib/habot
# 3000: Slack's requests (HTTP mode); 9102: /healthz, /readyz, /metrics (keep it private)
EXPOSE 3000 9102
# /healthz on HABOT_PROBES_PORT (build with `--format docker` under podman: OCI images drop it)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["habot", "probe"]
ENTRYPOINT ["habot"]
CMD ["serve"]
