"""Dependencies shared by the routes, as `Annotated` aliases."""

import re
from typing import Annotated, Literal

from fastapi import Depends, Header, Query
from fastapi.security import OAuth2PasswordBearer

from app.core.errors import NotAuthenticated
from app.core.limits import INT32_MAX
from app.core.security import decode_access_token
from app.models import User
from app.schemas.common import SearchText

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")

# An ETag as this service writes it: a version without leading zeros, in double quotes.
STRONG_ETAG = re.compile(r'"([1-9][0-9]{0,9})"')


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    """The active user a valid, unrevoked bearer token names; 401 for anything else.
    Writes lock this user's row and check it again (`User.lock_acting`)."""
    claims = decode_access_token(token)
    user = await User.by_token(*claims) if claims else None
    if user is None:
        raise NotAuthenticated
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def if_match_versions(
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
    """`skip` and `limit` of a list endpoint."""

    def __init__(
        self,
        skip: Annotated[int, Query(ge=0, le=INT32_MAX, description="Rows to skip.")] = 0,
        limit: Annotated[int, Query(ge=1, le=100, description="Rows to return.")] = 100,
    ) -> None:
        self.skip = skip
        self.limit = limit


PageDep = Annotated[Page, Depends()]

ItemOrder = Literal["id", "-id", "name", "-name", "created_at", "-created_at"]
ItemInclude = Annotated[
    Literal["owner"] | None, Query(description="`owner` adds each item's owner.")
]


class ItemListParams:
    """Filters and expansion shared by `GET /items/` and `GET /users/{id}/items`."""

    def __init__(
        self,
        q: Annotated[SearchText | None, Query(description="Name substring.")] = None,
        order_by: Annotated[
            ItemOrder, Query(description="Sort field, `-` for descending; ties by ascending id.")
        ] = "id",
        include: ItemInclude = None,
    ) -> None:
        self.q = q
        self.order_by = order_by
        self.include = include


ItemListQuery = Annotated[ItemListParams, Depends()]
