"""Where a request's CPU goes, without HTTP: the service and the baseline called as ASGI
apps in-process, one request after another, on the bench database.

    .venv/bin/python -m bench.profile                      # the CPU table, service vs baseline
    .venv/bin/python -m bench.profile --flame              # + py-spy flame graphs in bench/flame/
    .venv/bin/python -m bench.profile --cprofile users_items_50   # the top functions of one

Each side runs in a process of its own (its own garbage collector and caches), rounds
alternating service, baseline, service, ...; the figure is the median CPU time per request
(`time.process_time`, the event loop included) over `--requests` sequential requests
after a warm-up. uvicorn's HTTP parsing, the same for both sides, is left out, so the
ratios are a little lower than `make bench`'s req/s ratios: this is the part our code
decides. The database `bench_profile` is created, seeded and dropped (`--keep` keeps it).
"""

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("BENCH_DB", "bench_profile")

from bench import config, seeding
from bench.config import LOGIN_USER, PASSWORD, READ_USER, pg_url

SIDES = {"service": ("app.main:app", "postgres"), "baseline": ("bench.baseline:app", "postgresql")}
# (key, method, path, body): the four requests of the service/baseline targets.
REQUESTS = [
    ("user", "GET", f"/users/{READ_USER}", None),
    ("users_items_50", "GET", "/users/?limit=50&include=items", None),
    ("items_owner_50", "GET", "/items/?limit=50&include=owner", None),
    ("post_item", "POST", "/items/", b'{"name": "bench item", "description": "created"}'),
]
FLAME_DIR = config.BENCH / "flame"


class Asgi:
    """One ASGI app, its lifespan run, called with a request at a time."""

    def __init__(self, target: str) -> None:
        module, name = target.split(":")
        self.app = getattr(__import__(module, fromlist=[name]), name)
        self.headers: list[tuple[bytes, bytes]] = []

    async def call(self, method: str, path: str, body: bytes | None = None, **headers: str):
        path, _, query = path.partition("?")
        all_headers = [*self.headers, *((k.encode(), v.encode()) for k, v in headers.items())]
        if body is not None:
            all_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), *all_headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body or b"", "more_body": False}

        answer: dict[str, Any] = {"body": b""}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return answer["status"], answer["body"]


async def _side(side: str, keys: list[str], requests: int, seconds: float, prof: str) -> None:
    from asgi_lifespan import LifespanManager

    target, scheme = SIDES[side]
    os.environ["DATABASE_URL"] = pg_url(config.DB_NAME, scheme)
    client = Asgi(target)
    async with LifespanManager(client.app):
        form = f"username=user{LOGIN_USER}%40example.com&password={PASSWORD}".encode()
        status, body = await client.call(
            "POST",
            "/auth/token",
            form,
            **{"content-type": "application/x-www-form-urlencoded"},
        )
        assert status == 200, body
        token = json.loads(body)["access_token"]
        client.headers = [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
        ]
        figures = {}
        for key, method, path, payload in REQUESTS:
            if key not in keys:
                continue
            for _ in range(max(requests // 5, 20)):  # warm-up: caches, pool, statements
                status, body = await client.call(method, path, payload)
                assert status < 300, (key, status, body[:200])
            if seconds:  # for py-spy: say so once warm, then loop this request that long
                print("warm", flush=True)
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    await client.call(method, path, payload)
                continue
            profiler = cProfile.Profile() if prof else None
            started = time.process_time()
            if profiler:
                profiler.enable()
            for _ in range(requests):
                await client.call(method, path, payload)
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats(prof).print_stats(45)
            figures[key] = (time.process_time() - started) / requests * 1e6
        print(json.dumps(figures))


def _run_side(side: str, keys: list[str], *extra: str, prefix: list[str] | None = None) -> str:
    command = [sys.executable, "-m", "bench.profile", "--side", side, "--only", ",".join(keys)]
    done = subprocess.run(
        [*(prefix or []), *command, *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=config.ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _prepare() -> None:
    config.LOGS.mkdir(exist_ok=True)
    seeding.create_database()
    seeding.migrate(dict(os.environ))
    seeding.seed(seeding.password_hash())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", choices=SIDES)
    parser.add_argument("--only", default=",".join(key for key, *_ in REQUESTS))
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--flame", action="store_true", help="py-spy flame graphs too")
    parser.add_argument("--flame-format", default="flamegraph", help="py-spy's: raw for text")
    parser.add_argument("--cprofile", metavar="KEY", help="cProfile one request of the service")
    parser.add_argument("--sort", default="tottime", help="pstats order for --cprofile")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")
    args = parser.parse_args()
    keys = args.only.split(",")
    if args.side:
        prof = args.sort if os.environ.get("BENCH_CPROFILE") else ""
        asyncio.run(_side(args.side, keys, args.requests, args.seconds, prof))
        return 0
    os.environ.update(config.SERVER_SETTINGS, SECRET_KEY=secrets.token_urlsafe(48))
    if not args.reuse:
        _prepare()
    try:
        if args.cprofile:
            os.environ["BENCH_CPROFILE"] = "1"
            print(_run_side("service", [args.cprofile], "--sort", args.sort))
            seeding.reset_items(config.USERS * config.ITEMS_PER_USER)
            return 0
        runs: dict[str, dict[str, list[float]]] = {side: {} for side in SIDES}
        for _ in range(args.rounds):
            for side in SIDES:
                figures = json.loads(_run_side(side, keys, "--requests", str(args.requests)))
                for key, value in figures.items():
                    runs[side].setdefault(key, []).append(value)
                seeding.reset_items(config.USERS * config.ITEMS_PER_USER)  # POST's rows
        if args.rounds:
            print("| request | service µs CPU | baseline µs CPU | baseline/service |")
            print("|---|---:|---:|---:|")
        for key in keys if args.rounds else []:
            service = statistics.median(runs["service"][key])
            baseline = statistics.median(runs["baseline"][key])
            print(f"| {key} | {service:,.0f} | {baseline:,.0f} | {baseline / service:.2f} |")
        if args.flame:
            _flames(keys, out_format=args.flame_format)
        return 0
    finally:
        if not args.keep:
            seeding.drop_database()


def _flames(keys: list[str], seconds: int = 8, out_format: str = "flamegraph") -> None:
    """A py-spy flame graph (SVG) per request of the service: `seconds` of that request in
    a loop, sampled once the process is warm (start-up and first requests left out)."""
    py_spy = shutil.which("py-spy") or str(config.ROOT / ".venv" / "bin" / "py-spy")
    FLAME_DIR.mkdir(exist_ok=True)
    for key in keys:
        out = FLAME_DIR / f"{key}.{'svg' if out_format == 'flamegraph' else 'txt'}"
        command = [sys.executable, "-m", "bench.profile", "--side", "service", "--only", key]
        with subprocess.Popen(
            [*command, "--seconds", str(seconds + 3)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=config.ROOT,
        ) as side:
            assert side.stdout is not None
            if side.stdout.readline().strip() != "warm":
                raise SystemExit(f"the service did not warm up for {key}")
            subprocess.run(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(side.pid),
                    "--rate",
                    "250",
                    "--nonblocking",
                    "--duration",
                    str(seconds),
                    "--format",
                    out_format,
                    "-o",
                    str(out),
                ],
                check=True,
                capture_output=True,
            )
            side.communicate()
        seeding.reset_items(config.USERS * config.ITEMS_PER_USER)
        print(f"wrote {out.relative_to(config.ROOT)}")


if __name__ == "__main__":
    gc.collect()
    sys.exit(main())
