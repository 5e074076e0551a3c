"""Write openapi.json: the OpenAPI document the app serves at /openapi.json, committed so
that a change to the public contract shows in review (`make openapi`; tests/test_openapi_file.py
fails until the committed file is regenerated)."""

import json
import os
import secrets
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OPENAPI_FILE = REPO / "openapi.json"


def render() -> str:
    """The app's OpenAPI document as committed: sorted keys, indent 2, a final newline."""
    # Importing the app loads its settings: a throwaway key, so that none is generated
    # and written beside the data (the document does not depend on it).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    sys.path.insert(0, str(REPO))
    from app.main import app

    return json.dumps(app.openapi(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OPENAPI_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {OPENAPI_FILE.relative_to(REPO)}")
