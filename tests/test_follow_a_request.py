"""README's "Follow a request" names every file of `app/` a request crosses: measured here
by watching which files' code runs while the real app answers the request (the worker
threads' code aside: password hashing), so the page cannot drift from the code."""

import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from tests.support import REPO

APP = REPO / "app"
README = REPO / "README.md"
# A walk-through paragraph starts: `METHOD /path` (N files: `app/...`, `app/...`)
# The engine's module (postgres.py or sqlite.py) and the replica router depend on the
# database the suite runs on; the page names them apart from the counted files.
ENGINE_FILES = {
    "app/db/tortoise_ext/postgres.py",
    "app/db/tortoise_ext/sqlite.py",
    "app/db/replicas.py",
}
STATED = re.compile(
    r"^`(?P<request>[A-Z]+ [^`]+)` \((?P<count>\d+) files: (?P<files>[^)]*)\)", re.M
)


def stated_files() -> dict[str, list[str]]:
    """The requests README's "Follow a request" walks through, and the files it names."""
    section = README.read_text().split("### Follow a request", 1)[1].split("\n## ", 1)[0]
    walks = {}
    for match in STATED.finditer(section):
        files = re.findall(r"`(app/[^`]+\.py)`", match["files"])
        assert len(files) == int(match["count"]), match["request"]
        walks[match["request"]] = files
    return walks


async def files_crossed(request: Callable[[], Awaitable[httpx.Response]]) -> set[str]:
    """The files of `app/` whose code runs in this thread while `request()` is answered."""
    crossed: set[str] = set()

    def watch(frame: FrameType, event: str, _: Any) -> None:
        if event == "call":
            filename = frame.f_code.co_filename
            if filename.startswith(str(APP)):
                crossed.add(str(Path(filename).relative_to(REPO)))

    sys.setprofile(watch)
    try:
        response = await request()
    finally:
        sys.setprofile(None)
    assert response.status_code < 300, response.text
    return crossed - ENGINE_FILES


async def test_the_walk_throughs_name_every_file_a_request_crosses(client, make_account):
    ada = await make_account("ada@example.com")
    bob = await make_account()
    lamps = []
    for name in ("lamp", "desk"):
        created = await client.post("/items/", json={"name": name}, headers=ada.headers)
        lamps.append(created.json()["id"])
    requests = {
        "GET /users/?include=items&email=ada": lambda: client.get(
            "/users/", params={"include": "items", "email": "ada"}, headers=ada.headers
        ),
        "POST /items/transfer": lambda: client.post(
            "/items/transfer",
            json={"item_ids": [lamps.pop()], "new_owner_id": bob.id},
            headers=ada.headers,
        ),
    }
    for request in requests.values():
        await request()  # the first time builds what is built once (writers, SQL)

    stated = stated_files()

    assert set(stated) == set(requests)
    for name, request in requests.items():
        assert sorted(await files_crossed(request)) == sorted(stated[name]), name
