"""Response headers the routes set, documented once for the operations' `responses`.

Every answer body leaves through its route's `response_model` (FastAPI validates the
returned objects into it and pydantic-core writes the JSON), so the schema and the bytes
cannot drift apart.
"""

ETAG_HEADER = {"ETag": {"description": "The resource's version.", "schema": {"type": "string"}}}
LIST_HEADERS = {
    "X-Total-Count": {
        "description": "Number of matching rows, ignoring skip and limit; absent when the "
        "page was asked for with a cursor.",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'On a full page with more rows after it: `<URL>; rel="next"`, the '
        "same path and query with `skip` replaced by an opaque `cursor`.",
        "schema": {"type": "string"},
    },
}
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with "
        "the same `Idempotency-Key` (replays carry no other header of the first answer).",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
