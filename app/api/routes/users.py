"""`/users`: sign-up, listing, and each account's own management."""

from typing import Annotated, Literal

from fastapi import Query, Response, status

from app.api.deps import CurrentUser, IfMatch, ItemListQuery, PageDep
from app.api.errors import LOCKING_ERRORS, error_responses
from app.api.responses import ETAG_HEADER, LIST_HEADERS
from app.api.routing import CollectionRouter
from app.core import outbox
from app.core.errors import Forbidden, UserNotFound
from app.core.security import hash_password
from app.models import Item, User
from app.schemas.common import DbId, SearchText
from app.schemas.item import ItemRead
from app.schemas.user import UserCreate, UserPublic, UserRead, UserUpdate

router = CollectionRouter(prefix="/users", tags=["users"])

UserOrder = Literal[
    "id", "-id", "email", "-email", "username", "-username", "created_at", "-created_at"
]
UserInclude = Annotated[
    Literal["items"] | None,
    Query(description="`items` adds each user's first 100 items, lowest ids first."),
]


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=error_responses(400),
    summary="Sign up, optionally with items, in one transaction",
    description="The account starts unverified (`is_verified: false`); a verification "
    "token is mailed to its email (see `POST /auth/verify`).",
)
async def create_user(body: UserCreate) -> User:
    if conflict := await User.conflict(body.email, body.username):
        raise conflict  # before paying for the hash; the constraints decide races
    hashed_password = await hash_password(body.password)
    items = [item.model_dump() for item in body.items]
    user = await User.sign_up(body.email, body.username, hashed_password, items)
    outbox.wake()  # the verification mail, committed with the account
    return user


@router.get(
    "/",
    response_model=list[UserRead],
    responses={200: {"headers": LIST_HEADERS}, **error_responses(400, 401)},
    summary="List users",
)
async def list_users(
    _: CurrentUser,
    page: PageDep,
    response: Response,
    email: Annotated[SearchText | None, Query(description="Email substring.")] = None,
    is_active: bool | None = None,
    order_by: Annotated[
        UserOrder,
        Query(
            description="Sort field, `-` for descending; ties by ascending id. Users "
            "without a username sort first on SQLite and last on PostgreSQL (ascending). "
            "With a `cursor`, the cursor's own order."
        ),
    ] = "id",
    include: UserInclude = None,
) -> list[User]:
    users = User.all().matching(email=email, is_active=is_active)
    page_of = users.page_with_items if include else users.page
    return page.answer(response, await page_of(page.window(order_by)))


@router.get(
    "/me",
    response_model=UserPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401)},
    summary="The caller",
)
async def read_me(caller: CurrentUser, response: Response) -> User:
    response.headers["ETag"] = caller.etag
    return caller


@router.get(
    "/{user_id:id}",
    response_model=UserRead,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 404)},
    summary="One user",
)
async def read_user(
    _: CurrentUser, user_id: DbId, response: Response, include: UserInclude = None
) -> User:
    if include:
        user = await User.filter(id=user_id).first_with_items()
    else:
        user = await User.get_or_none(id=user_id)
    if user is None:
        raise UserNotFound
    response.headers["ETag"] = user.etag
    return user


@router.patch(
    "/{user_id:id}",
    response_model=UserPublic,
    responses={
        200: {"headers": ETAG_HEADER},
        **error_responses(400, 401, 403, 404, 412, *LOCKING_ERRORS),
    },
    summary="Change a user: themself or a superuser; flags by a superuser only",
)
async def update_user(
    current: CurrentUser, user_id: DbId, body: UserUpdate, if_version: IfMatch, response: Response
) -> User:
    """A new password or a deactivation revokes every token the user was issued. The
    caller's rights and the user's version are checked on their locked rows."""
    changes = body.model_dump(exclude_unset=True)
    if not current.may_change(user_id, changes):  # early, before hashing a password
        raise Forbidden() if await User.exists(id=user_id) else UserNotFound()
    if "password" in changes:
        changes["hashed_password"] = await hash_password(changes.pop("password"))
    user = await User.change(user_id, changes, if_version, by=current)
    response.headers["ETag"] = user.etag
    return user


@router.delete(
    "/{user_id:id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 412, *LOCKING_ERRORS),
    summary="Delete a user and their items: themself or a superuser",
)
async def delete_user(current: CurrentUser, user_id: DbId, if_version: IfMatch) -> None:
    await User.remove(user_id, if_version, by=current)


@router.get(
    "/{user_id:id}/items",
    response_model=list[ItemRead],
    responses={200: {"headers": LIST_HEADERS}, **error_responses(400, 401, 404)},
    summary="A user's items",
)
async def list_user_items(
    _: CurrentUser, user_id: DbId, query: ItemListQuery, page: PageDep, response: Response
) -> list[Item]:
    if not await User.exists(id=user_id):
        raise UserNotFound
    items = Item.all().of_owner(user_id).search(query.q)
    if query.include:
        items = items.select_related("owner")
    return page.answer(response, await items.page(page.window(query.order_by)))
