# The API image. It runs as production (ENVIRONMENT=production), so it needs SECRET_KEY: a
# random value of at least 32 characters, generated once and kept secret, never written
# in a file that is committed or baked into an image:
#
#   export SECRET_KEY="$(python -c "import secrets; print(secrets.token_urlsafe(48))")"
#
#   docker build -t tortoise-service .
#   docker run --rm -p 8000:8000 -e SECRET_KEY="$SECRET_KEY" tortoise-service  # throwaway
#   docker run --rm -p 8000:8000 -e SECRET_KEY="$SECRET_KEY" \
#       -v app-data:/app/data tortoise-service    # SQLite in /app/data, kept in a volume
#
# Started with no command (or `python -m app serve`), it applies the pending migrations,
# then uvicorn serves on 0.0.0.0:8000. SQLite serves one process at a time: a second
# container on the same volume refuses to start. To run several, use PostgreSQL:
#
#   docker run -p 8000:8000 -e SECRET_KEY="$SECRET_KEY" \
#       -e DATABASE_URL=postgres://user:password@db:5432/app tortoise-service
#
# Instances that start together are safe: on PostgreSQL the migrations run under an
# advisory lock. Any other command runs as given, without migrating first:
#   docker run --rm -e SECRET_KEY="$SECRET_KEY" -e DATABASE_URL=... tortoise-service \
#       python -m app migrations status        # exit 0 only at head
#   docker run --rm -e SECRET_KEY="$SECRET_KEY" -e DATABASE_URL=... tortoise-service \
#       python -m app migrate                  # e.g. as a deploy step before the servers
#   docker run --rm -e SECRET_KEY="$SECRET_KEY" -e DATABASE_URL=... tortoise-service \
#       python -m app createsuperuser --email ... --password ...
# Behind a reverse proxy, set FORWARDED_ALLOW_IPS to its address so that client
# addresses (and so login throttling) come from X-Forwarded-For. Logs are JSON lines
# (LOG_FORMAT=json, for the log driver); `python -m app check --deploy` lists weak settings.
# GET /metrics answers only METRICS_ALLOW_IPS, 127.0.0.1 by default: that is the container
# itself, so a Prometheus outside it (another container, the host) gets 404 until its
# address or network is listed, e.g. -e METRICS_ALLOW_IPS=10.0.0.0/8. Set ALLOWED_HOSTS
# to the names clients call the API by (by default only localhost and 127.0.0.1 are served).

# ---- builder: the dependencies, in a virtualenv copied whole into the final image ----
FROM python:3.11.17-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /build

# Only pyproject.toml: this layer is rebuilt when the dependencies change, not the code.
# The project itself is not installed; it runs from /app (see migrations below).
COPY pyproject.toml ./
RUN python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' > requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt

# ---- runtime ----
FROM python:3.11.17-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    HOST=0.0.0.0 \
    PORT=8000 \
    ENVIRONMENT=production \
    LOG_FORMAT=json

RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# The code stays root-owned (read-only to the app). The app finds migrations/ next to the
# package (app/db/migrations.py), so both live in /app; `python -m app` runs from here.
COPY app ./app
COPY migrations ./migrations
COPY --chmod=755 scripts/start.sh ./scripts/start.sh
# Default DATABASE_URL is sqlite://data/app.sqlite3, relative to /app: the one writable dir.
RUN python -m compileall -q app migrations \
    && mkdir data \
    && chown app:app data

# Numeric, so runtimes (e.g. Kubernetes runAsNonRoot) can tell it is not root.
USER 10001:10001
EXPOSE 8000

# Liveness: /health/live answers 200 whenever the process serves, database or not, so
# a database outage does not get the container restarted (readiness, /health/ready, is
# for the load balancer). No curl in slim: the stdlib asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/live\", timeout=4)"]

ENTRYPOINT ["/app/scripts/start.sh"]
