"""JSON answers for reads: rows fetched as dicts, encoded once by orjson.

The routes' `response_model` documents the shape (and the tests and schemathesis check the
answers against it); returning this response skips FastAPI's second validation pass of
data the database just produced.
"""

from typing import Any

import orjson
from fastapi.responses import JSONResponse

# The headers these answers carry, for the operations' OpenAPI `responses`.
ETAG_HEADER = {"ETag": {"description": "The resource's version.", "schema": {"type": "string"}}}
TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "Number of matching rows, ignoring skip and limit.",
        "schema": {"type": "integer"},
    }
}


class RowsResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def page_response(rows: list[dict[str, Any]], total: int) -> RowsResponse:
    return RowsResponse(rows, headers={"X-Total-Count": str(total)})


def row_response(row: dict[str, Any], version: int, status_code: int = 200) -> RowsResponse:
    """One resource with its ETag."""
    return RowsResponse(row, status_code=status_code, headers={"ETag": f'"{version}"'})
