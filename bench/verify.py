"""Before measuring: the servers answer the same JSON to the same requests."""

import json
import re
from typing import Any

import httpx

from bench.config import ITEMS_PER_USER, LOGIN_USER, LOGS, PASSWORD, READ_USER, USERS, BenchError
from bench.seeding import reset_items
from bench.servers import Server

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")

# (method, path, body, auth) with auth one of "token", "none", "bad"; the JSON and the
# X-Total-Count header must be the same everywhere (for 422 only the status).
CHECKS: list[tuple[str, str, Any, str]] = [
    ("GET", f"/users/{READ_USER}", None, "token"),
    ("GET", "/users/7", None, "token"),  # no username
    ("GET", "/users/97", None, "token"),  # inactive
    ("GET", "/users/42?include=items", None, "token"),
    ("GET", "/users/?limit=10&include=items", None, "token"),
    ("GET", "/users/?limit=50&include=items", None, "token"),
    ("GET", "/users/?limit=100&include=items", None, "token"),
    ("GET", f"/users/?skip={USERS - 5}&limit=10&include=items", None, "token"),
    ("GET", "/users/?limit=50", None, "token"),
    ("GET", "/items/?limit=10&include=owner", None, "token"),
    ("GET", "/items/?limit=50&include=owner", None, "token"),
    ("GET", "/items/?limit=100&include=owner", None, "token"),
    ("GET", f"/items/?skip={USERS * ITEMS_PER_USER - 5}&limit=10&include=owner", None, "token"),
    ("GET", "/items/?limit=50", None, "token"),
    ("GET", "/users/999999", None, "token"),
    ("GET", "/users/0", None, "token"),
    ("GET", "/users/abc", None, "token"),
    ("GET", "/users/?limit=0", None, "token"),
    ("GET", "/users/?limit=101", None, "token"),
    ("GET", "/users/?skip=-1", None, "token"),
    ("GET", "/users/?include=owner", None, "token"),
    ("GET", "/items/?include=items", None, "token"),
    ("GET", "/items/?limit=101&include=owner", None, "token"),
    ("GET", f"/users/{READ_USER}", None, "none"),
    ("GET", f"/users/{READ_USER}", None, "bad"),
    ("GET", "/items/?limit=10", None, "bad"),
    ("POST", "/items/", {"name": ""}, "token"),
    ("POST", "/items/", {"name": 5}, "token"),
    ("POST", "/items/", {"description": "no name"}, "token"),
    ("POST", "/items/", {"name": "x" * 256}, "token"),
    ("POST", "/items/", {"name": "ok"}, "none"),
]
CREATE = {"name": "verification item", "description": "made by bench/run.py"}
ITEM_KEYS = ["id", "name", "description", "owner_id", "created_at", "updated_at"]
COMPARED_HEADERS = ("x-total-count", "www-authenticate")


def first_difference(a: Any, b: Any, path: str = "$") -> str:
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            if a[key] != b[key] or json.dumps(a[key]) != json.dumps(b[key]):
                return first_difference(a[key], b[key], f"{path}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} elements != {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if json.dumps(x) != json.dumps(y):
                return first_difference(x, y, f"{path}[{index}]")
    return f"{path}: {a!r} != {b!r}"


class Comparison:
    """Problems and counts of one verification."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.byte_differences: list[str] = []
        self.compared = self.identical_bytes = self.with_body = 0

    def answers(self, what: str, server: Server, ref: httpx.Response, answer: httpx.Response):
        self.compared += 1
        if answer.status_code != ref.status_code:
            self.problems.append(f"{what}: {answer.status_code} != {ref.status_code}")
            return
        if ref.status_code == 422:
            return
        self.with_body += 1
        if answer.content == ref.content:
            self.identical_bytes += 1
        else:
            self.byte_differences.append(
                f"{what}\n  {ref.content[:300]!r}\n  {answer.content[:300]!r}"
            )
        a, b = ref.json(), answer.json()
        if a != b or json.dumps(a) != json.dumps(b):
            self.problems.append(f"{what}: {first_difference(a, b)}")
        for header in COMPARED_HEADERS:
            if ref.headers.get(header) != answer.headers.get(header):
                self.problems.append(
                    f"{what}: {header} {answer.headers.get(header)!r} "
                    f"!= {ref.headers.get(header)!r}"
                )
        etag = ref.headers.get("etag")
        if etag and server.key == "baseline" and answer.headers.get("etag") != etag:
            self.problems.append(f"{what}: ETag {answer.headers.get('etag')!r} != {etag!r}")

    def created(self, server: Server, answer: httpx.Response) -> None:
        """POST /items/: the same item but for its id and timestamps."""
        what = f"POST /items/ on {server.label}"
        if answer.status_code != 201:
            self.problems.append(f"{what}: {answer.status_code} {answer.text[:200]}")
            return
        item = answer.json()
        expected = {**CREATE, "owner_id": LOGIN_USER}
        if list(item) != ITEM_KEYS:
            self.problems.append(f"{what}: keys {list(item)} != {ITEM_KEYS}")
        elif {k: item[k] for k in expected} != expected or not isinstance(item["id"], int):
            self.problems.append(f"{what}: {item}")
        elif not all(TIMESTAMP.fullmatch(item[k]) for k in ("created_at", "updated_at")):
            self.problems.append(f"{what}: timestamps {item['created_at']} {item['updated_at']}")


def verify(servers: list[Server], max_item_id: int) -> dict[str, Any]:
    """Same requests to every server; the answers must match the service's (the first)."""
    seen = Comparison()
    with httpx.Client(timeout=30) as client:

        def call(server: Server, method: str, path: str, body: Any, auth: str) -> httpx.Response:
            headers = {}
            if auth == "token":
                headers["Authorization"] = f"Bearer {server.token}"
            elif auth == "bad":
                headers["Authorization"] = f"Bearer {server.token[:-4]}AAAA"
            return client.request(method, server.base + path, json=body, headers=headers)

        for method, path, body, auth in CHECKS:
            answers = [call(s, method, path, body, auth) for s in servers]
            for server, answer in zip(servers[1:], answers[1:], strict=True):
                seen.answers(
                    f"{method} {path} ({auth}) on {server.label}", server, answers[0], answer
                )

        for server in servers:
            seen.created(server, call(server, "POST", "/items/", CREATE, "token"))

        # Sign-in failures: same status and message (a different account from the token's).
        for form in (
            {"username": "user2@example.com", "password": "wrong-password"},
            {"username": "nobody@example.com", "password": PASSWORD},
        ):
            answers = [client.post(f"{s.base}/auth/token", data=form) for s in servers]
            ref = answers[0]
            for server, answer in zip(servers[1:], answers[1:], strict=True):
                seen.compared += 1
                if (answer.status_code, answer.json()) != (ref.status_code, ref.json()):
                    seen.problems.append(
                        f"POST /auth/token {form['username']} on {server.label}: "
                        f"{answer.status_code} {answer.text} != {ref.status_code} {ref.text}"
                    )
    reset_items(max_item_id)
    if seen.problems:
        raise BenchError("the servers disagree:\n  " + "\n  ".join(seen.problems))
    (LOGS / "verify-bytes.log").write_text("\n".join(seen.byte_differences) + "\n")
    return {
        "compared": seen.compared,
        "identical_bytes": seen.identical_bytes,
        "with_body": seen.with_body,
    }
