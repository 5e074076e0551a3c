"""Response headers the routes set, documented once for the operations' `responses`.

Every answer body leaves through its route's `response_model` (FastAPI validates the
returned objects into it and pydantic-core writes the JSON), so the schema and the bytes
cannot drift apart.
"""

ETAG_HEADER = {"ETag": {"description": "The resource's version.", "schema": {"type": "string"}}}
TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "Number of matching rows, ignoring skip and limit.",
        "schema": {"type": "integer"},
    }
}
