"""openapi.json, committed at the repository root, is the document the app serves."""

import difflib
import importlib.util
import json

from tests.support import REPO

OPENAPI_SCRIPT = REPO / "scripts" / "openapi.py"
SHOWN_DIFF_LINES = 40


def _render() -> str:
    spec = importlib.util.spec_from_file_location("openapi_script", OPENAPI_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render()


def test_the_committed_openapi_json_is_what_the_app_produces():
    committed = (REPO / "openapi.json").read_text(encoding="utf-8")
    produced = _render()

    diff = list(
        difflib.unified_diff(
            committed.splitlines(), produced.splitlines(), "openapi.json", "app", lineterm=""
        )
    )
    assert committed == produced, (
        "openapi.json differs from the schema the app serves: run make openapi\n"
        + "\n".join(diff[:SHOWN_DIFF_LINES])
    )


async def test_it_is_the_document_served_at_openapi_json(client):
    response = await client.get("/openapi.json")

    assert response.json() == json.loads((REPO / "openapi.json").read_text(encoding="utf-8"))
