"""Response headers the routes set, documented once for the operations' `responses`.

Every answer body leaves through its route's `response_model`: the writer built from it
(`app/api/answers.py`) reads the schema's fields off the returned objects, so the schema
and the bytes cannot drift apart (`tests/test_answers.py` holds them to pydantic's).
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
