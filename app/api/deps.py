"""Dependencies shared by the routes, as `Annotated` aliases."""

import hashlib
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordBearer

from app.api.answers import writer_for
from app.core.cursors import decode_cursor, encode_cursor
from app.core.errors import NotAuthenticated
from app.core.limits import INT32_MAX
from app.core.security import decode_access_token
from app.models import IdempotencyKey, User
from app.models.base import M, PageOf, Window
from app.schemas.common import IndexedSearchText

T = TypeVar("T")

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")

# An ETag as this service writes it: a version without leading zeros, in double quotes.
STRONG_ETAG = re.compile(r'"([1-9][0-9]{0,9})"')


async def get_current_user(request: Request, token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    """The active user a valid, unrevoked bearer token of a live session names; 401 for
    anything else. Writes lock this user's row and check it again (`User.lock_acting`).
    The request's log line names the user (`RequestLogMiddleware`)."""
    claims = decode_access_token(token)
    user = await User.by_token(*claims) if claims else None
    if user is None or claims is None:
        raise NotAuthenticated
    request.state.user_id = user.id
    request.state.session_id = claims[2]
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def current_session_id(request: Request, _: CurrentUser) -> int:
    """The session the caller's token belongs to."""
    return request.state.session_id


CurrentSessionId = Annotated[int, Depends(current_session_id)]


def on_the_loop(cls: type[T]) -> Any:
    """`Depends()` on a class, built on the event loop: FastAPI runs a class (or a plain
    `def`) dependency in a worker thread, a thread hop per request for a few assignments."""

    async def build(**kwargs: Any) -> T:
        return cls(**kwargs)

    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    build.__signature__ = inspect.Signature(parameters, return_annotation=cls)  # type: ignore[attr-defined]
    build.__name__ = cls.__name__
    return Depends(build)


async def if_match_versions(
    if_match: Annotated[
        str | None,
        Header(
            description="ETag(s) from a GET: the change applies only while the resource "
            "is still at that version, else 412."
        ),
    ] = None,
) -> set[int] | None:
    """The versions an If-Match header accepts; None when absent or `*` (any version).
    Weak or malformed tags match nothing, so they get 412 (strong comparison)."""
    if if_match is None or if_match.strip() == "*":
        return None
    versions = set()
    for tag in if_match.split(","):
        if (match := STRONG_ETAG.fullmatch(tag.strip())) and int(match[1]) <= INT32_MAX:
            versions.add(int(match[1]))
    return versions


IfMatch = Annotated[set[int] | None, Depends(if_match_versions)]


class Page:
    """Which page of a list the client asks for: `skip` or a `cursor`, and `limit`; and
    the headers that answer it (`X-Total-Count`, `Link: <...>; rel="next"`)."""

    def __init__(
        self,
        request: Request,
        skip: Annotated[
            int | None,
            Query(ge=0, le=INT32_MAX, description="Rows to skip (default 0); not with `cursor`."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100, description="Rows to return.")] = 100,
        cursor: Annotated[
            str | None,
            Query(
                max_length=2048,
                description='Continue after the page a `Link: rel="next"` header named; '
                "the answer then has no `X-Total-Count`.",
            ),
        ] = None,
    ) -> None:
        if cursor is not None and skip is not None:
            raise _invalid_query("skip", skip, "skip cannot be combined with cursor")
        self.url = request.url
        self.skip = skip or 0
        self.limit = limit
        self.cursor = cursor

    @property
    def path(self) -> str:
        """The list a cursor belongs to, with or without the trailing slash."""
        return self.url.path.rstrip("/")

    def window(self, order_by: str) -> Window:
        """The rows to fetch; 400 for a cursor of another list, 422 for another order."""
        after = None
        if self.cursor is not None:
            after = decode_cursor(self.cursor, self.path)
            if after.order_by != order_by:
                raise _invalid_query("order_by", order_by, "order_by differs from the cursor's")
        return Window(self.limit, order_by, self.skip, after)

    def answer(self, response: Response, page: PageOf[M]) -> list[M]:
        """The page's rows, its count and, when it is full and more rows follow, the link
        to the next page (same path and query, `skip` replaced by a cursor)."""
        if page.total is not None:
            response.headers["X-Total-Count"] = str(page.total)
        if page.more and len(page.rows) == self.limit and (end := page.end) is not None:
            cursor = encode_cursor(self.path, end)
            url = self.url.remove_query_params(["skip", "cursor"]).include_query_params(
                cursor=cursor
            )
            response.headers["Link"] = f'<{url}>; rel="next"'
        return page.rows


def _invalid_query(name: str, value: object, message: str) -> RequestValidationError:
    """A 422 in FastAPI's own shape, for a rule between query parameters."""
    error = {"type": "value_error", "loc": ("query", name), "msg": message, "input": value}
    return RequestValidationError([error])


PageDep = Annotated[Page, on_the_loop(Page)]

ItemOrder = Literal["id", "-id", "name", "-name", "created_at", "-created_at"]
ItemInclude = Annotated[
    Literal["owner"] | None, Query(description="`owner` adds each item's owner.")
]


class ItemListParams:
    """Filters and expansion shared by `GET /items/` and `GET /users/{id}/items`."""

    def __init__(
        self,
        q: Annotated[
            IndexedSearchText | None,
            Query(
                description="Name substring, in any case (Unicode: `école` finds `ÉCOLE`). "
                "At most 255 characters; from 3 characters on it must hold 3 letters or "
                "digits in a row (what the trigram index needs), else 422: `%%%` or `---` "
                "alone would match every row the slow way."
            ),
        ] = None,
        order_by: Annotated[
            ItemOrder,
            Query(
                description="Sort field, `-` for descending; ties by ascending id. With a "
                "`cursor`, the cursor's own order."
            ),
        ] = "id",
        include: ItemInclude = None,
    ) -> None:
        self.q = q
        self.order_by = order_by
        self.include = include


ItemListQuery = Annotated[ItemListParams, on_the_loop(ItemListParams)]


class Idempotency:
    """The `Idempotency-Key` of a POST, and the answer given once under it
    (`IdempotencyKey.answer_once`): replays carry `Idempotent-Replayed: true`."""

    def __init__(
        self,
        request: Request,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(
                pattern=r"^[\x20-\x7e]{1,255}$",
                description="1-255 printable ASCII characters, chosen by the client: a "
                "retry with the same key, path and body answers the first answer again "
                "instead of doing the work twice. Kept 24 hours per user.",
            ),
        ] = None,
    ) -> None:
        self.request = request
        self.response = response
        self.key = idempotency_key

    async def answer(
        self, by: User, model: Any, status_code: int, run: Callable[[], Awaitable[Any]]
    ) -> Any:
        """`await run()` as the route's answer; under a key, at most once, as the bytes
        of its `model` (the route's response_model)."""
        if self.key is None:
            return await run()
        write = writer_for(model)

        async def effect() -> tuple[int, bytes]:
            return status_code, write(await run())

        (status, body), replayed = await IdempotencyKey.answer_once(
            by, self.key, await self._fingerprint(), effect
        )
        if not replayed:
            headers = dict(self.response.headers)
        else:  # the status and body are stored; a refused token's challenge is derived
            headers = {"Idempotent-Replayed": "true"}
            if status == 401:
                headers["WWW-Authenticate"] = "Bearer"
        return Response(body, status_code=status, headers=headers, media_type="application/json")

    async def _fingerprint(self) -> str:
        request = self.request
        digest = hashlib.sha256(f"{request.method} {request.url.path.rstrip('/')}\n".encode())
        digest.update(await request.body())
        return digest.hexdigest()


IdempotencyDep = Annotated[Idempotency, on_the_loop(Idempotency)]
