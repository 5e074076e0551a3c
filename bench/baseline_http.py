"""The baseline's HTTP by hand: error answers, the bearer token, query strings, request
bodies and their validation, with FastAPI's rules for the requests the bench sends
(status codes, which check comes first; the 422 bodies have FastAPI's shape, but only
their status is compared)."""

from typing import Any
from urllib.parse import parse_qsl

import jwt
import orjson
from starlette.requests import Request

INT32_MAX = 2**31 - 1

JSON_TYPE = (b"content-type", b"application/json")
BEARER = [(b"www-authenticate", b"Bearer")]


class Failure(Exception):
    """An error answer: status, body, headers."""

    def __init__(self, status: int, body: bytes, headers: list | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or []


def fixed(status: int, detail: str, headers: list | None = None) -> tuple:
    return status, orjson.dumps({"detail": detail}), headers


NOT_AUTHENTICATED = fixed(401, "Not authenticated", BEARER)
BAD_TOKEN = fixed(401, "Could not validate credentials", BEARER)
BAD_LOGIN = fixed(401, "Incorrect email or password", BEARER)
INACTIVE = fixed(400, "Inactive user")
USER_NOT_FOUND = fixed(404, "User not found")
NOT_FOUND = fixed(404, "Not Found")
NOT_ALLOWED = fixed(405, "Method Not Allowed")


def invalid(kind: str, loc: tuple, msg: str, **ctx: Any) -> Failure:
    error = {"type": kind, "loc": list(loc), "msg": msg, **({"ctx": ctx} if ctx else {})}
    return Failure(422, orjson.dumps({"detail": [error]}))


def int_param(value: str, loc: tuple, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        msg = "Input should be a valid integer, unable to parse string as an integer"
        raise invalid("int_parsing", loc, msg) from None
    if number < low:
        msg = f"Input should be greater than or equal to {low}"
        raise invalid("greater_than_equal", loc, msg, ge=low)
    if number > high:
        raise invalid(
            "less_than_equal", loc, f"Input should be less than or equal to {high}", le=high
        )
    return number


def query_params(scope: dict) -> dict[str, str]:
    """The query string as FastAPI reads it for single values: the last one counts."""
    raw = scope["query_string"]
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}


def page_params(scope: dict, relation: str) -> tuple[int, int, bool]:
    """skip, limit and include= of a list."""
    query = query_params(scope)
    skip = int_param(query.get("skip", "0"), ("query", "skip"), 0, INT32_MAX)
    limit = int_param(query.get("limit", "100"), ("query", "limit"), 1, 100)
    return skip, limit, include_param(query, relation)


def include_param(query: dict, relation: str) -> bool:
    if "include" not in query:
        return False
    if query["include"] != relation:
        msg = f"Input should be '{relation}'"
        raise invalid("literal_error", ("query", "include"), msg, expected=f"'{relation}'")
    return True


def text_field(body: dict, name: str, low: int, high: int) -> str:
    value, loc = body[name], ("body", name)
    if not isinstance(value, str):
        raise invalid("string_type", loc, "Input should be a valid string")
    if len(value) < low:
        raise invalid("string_too_short", loc, f"String should have at least {low} character")
    if len(value) > high:
        raise invalid("string_too_long", loc, f"String should have at most {high} characters")
    if "\x00" in value:
        raise invalid("string_pattern_mismatch", loc, "String should match pattern")
    return value


async def json_body(scope: dict, receive: Any) -> Any:
    """The JSON body; None when empty or not JSON (then invalid after the token check)."""
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    raw = b"".join(chunks)
    kind = next((v for k, v in scope["headers"] if k == b"content-type"), b"application/json")
    subtype = kind.split(b";")[0].strip().lower()
    if not raw or not (subtype == b"application/json" or subtype.endswith(b"+json")):
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid("json_invalid", ("body", exc.pos), "JSON decode error") from None


async def login_form(scope: dict, receive: Any) -> tuple[str, str]:
    """username and password of the OAuth2 password form (Starlette's form parser, as the
    service's); a missing or empty field is a 422, as FastAPI's Form() makes it."""
    form = await Request(scope, receive).form()
    username, password = form.get("username"), form.get("password")
    for name, value in (("username", username), ("password", password)):
        if not isinstance(value, str) or not value:
            raise invalid("missing", ("body", name), "Field required")
    return username, password


def item_create(body: Any) -> tuple[str, str | None]:
    """name and description of the service's ItemCreate (strict: strings only)."""
    if not isinstance(body, dict):
        raise invalid("model_attributes_type", ("body",), "Input should be an object")
    if "name" not in body:
        raise invalid("missing", ("body", "name"), "Field required")
    name = text_field(body, "name", 1, 255)
    if body.get("description") is None:
        return name, None
    return name, text_field(body, "description", 0, 10_000)


def token_claims(scope: dict, secret: str) -> tuple[int, int]:
    """(user id, token version) of the bearer token, checked by PyJWT as the service does."""
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    scheme, _, token = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Failure(*NOT_AUTHENTICATED)
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "ver", "exp"]}
        )
        user_id, version = int(claims["sub"]), claims["ver"]
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Failure(*BAD_TOKEN) from None
    if not (0 < user_id <= INT32_MAX and isinstance(version, int)):
        raise Failure(*BAD_TOKEN)
    return user_id, version
