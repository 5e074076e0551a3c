"""Dependencies shared by the routes, as `Annotated` aliases."""

from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Response, status
from fastapi.security import OAuth2PasswordBearer
from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.core.security import decode_access_token
from app.models import User
from app.schemas.common import INT32_MAX

M = TypeVar("M", bound=Model)

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")

CREDENTIALS_ERROR = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)
FORBIDDEN = HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Not enough permissions")
USER_NOT_FOUND = HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="User not found")
ITEM_NOT_FOUND = HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Item not found")


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    """The active user a valid bearer token names; 401 for anything else."""
    user_id = decode_access_token(token)
    user = await User.get_or_none(id=user_id) if user_id else None
    if user is None or not user.is_active:
        raise CREDENTIALS_ERROR
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


class Page:
    """`skip`/`limit` of a list endpoint, and the one way to fetch a page of a queryset."""

    def __init__(
        self,
        skip: Annotated[int, Query(ge=0, le=INT32_MAX, description="Rows to skip.")] = 0,
        limit: Annotated[int, Query(ge=1, le=100, description="Rows to return.")] = 100,
    ) -> None:
        self.skip = skip
        self.limit = limit

    async def fetch(self, queryset: QuerySet[M], order_by: str, response: Response) -> list[M]:
        """One page ordered by `order_by` with ties broken by ascending id; the total
        number of matching rows goes in `X-Total-Count`."""
        response.headers["X-Total-Count"] = str(await queryset.count())
        ordering = [order_by] if order_by.lstrip("-") == "id" else [order_by, "id"]
        return await queryset.order_by(*ordering).offset(self.skip).limit(self.limit)


PageDep = Annotated[Page, Depends()]

TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "Number of matching rows, ignoring skip and limit.",
        "schema": {"type": "integer"},
    }
}
