#!/bin/sh
# Container entrypoint: apply pending migrations (waiting for the database), then serve,
# or run the command given instead (`docker run IMAGE python -m app createsuperuser ...`).
# `exec` replaces this shell with the server, so the SIGTERM of `docker stop` reaches
# uvicorn, which shuts down gracefully. A failed migration aborts the start (`set -e`).
set -eu

python -m app migrate
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec python -m app serve
