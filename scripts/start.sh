#!/bin/sh
# Container entrypoint. To serve (no arguments, or `python -m app serve`): apply pending
# migrations (waiting for the database), then serve. Any other command runs as given,
# without migrating, so that `docker run IMAGE python -m app migrations status` reports the
# database as it is; `python -m app migrate` is such a command.
# `exec` replaces this shell with the server, so the SIGTERM of `docker stop` reaches
# uvicorn, which shuts down gracefully. A failed migration aborts the start (`set -e`).
set -eu

if [ "$#" -eq 0 ] || { [ "$#" -eq 4 ] && [ "$1 $2 $3 $4" = "python -m app serve" ]; }; then
    python -m app migrate
    exec python -m app serve
fi
exec "$@"
