"""`/users`: sign-up, listing, and each account's own management."""

from typing import Annotated, Any, Literal

from fastapi import Query, Response, status
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.api.deps import Caller, CurrentUser, IfMatch, ItemListQuery, PageDep
from app.api.errors import LOCKING_ERRORS, error_responses
from app.api.responses import (
    ETAG_HEADER,
    TOTAL_COUNT_HEADER,
    RowsResponse,
    page_response,
    row_response,
)
from app.api.routing import CollectionRouter
from app.core.errors import EmailTaken, Forbidden, UserNotFound
from app.core.security import hash_password
from app.models import Item, User
from app.schemas.common import DbId, SearchText
from app.schemas.item import ITEM_FIELDS, ItemPublic, ItemWithOwner
from app.schemas.user import USER_FIELDS, UserCreate, UserPublic, UserUpdate, UserWithItems

router = CollectionRouter(prefix="/users", tags=["users"])

UserOrder = Literal[
    "id", "-id", "email", "-email", "username", "-username", "created_at", "-created_at"
]
UserInclude = Annotated[
    Literal["items"] | None, Query(description="`items` adds each user's items.")
]


async def _with_items(rows: list[dict[str, Any]]) -> None:
    """`include=items`: every listed user's items, fetched in one more query."""
    items = await Item.grouped_by_owner([row["id"] for row in rows], ITEM_FIELDS)
    for row in rows:
        row["items"] = items[row["id"]]


FLAGS = frozenset({"is_active", "is_superuser"})


def _check_may_change(caller: User | Caller, user_id: int, changes: dict[str, Any]) -> None:
    """Themself or a superuser; the flags by a superuser only."""
    if not (caller.is_superuser or caller.id == user_id) or (
        not caller.is_superuser and changes.keys() & FLAGS
    ):
        raise Forbidden


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=error_responses(400),
    summary="Sign up, optionally with items, in one transaction",
)
async def create_user(body: UserCreate) -> UserPublic:
    if conflict := await User.conflict(body.email, body.username):
        raise conflict
    hashed_password = await hash_password(body.password)
    try:
        async with in_transaction():
            user = await User.create(
                email=body.email,
                username=body.username,
                hashed_password=hashed_password,
            )
            if body.items:
                await Item.bulk_create(
                    [Item(owner=user, name=i.name, description=i.description) for i in body.items]
                )
    except IntegrityError:
        # Lost a race with a concurrent sign-up: the constraint held, report which one.
        raise (await User.conflict(body.email, body.username) or EmailTaken()) from None
    return UserPublic.model_validate(user)


@router.get(
    "/",
    response_model=list[UserWithItems | UserPublic],
    responses={200: {"headers": TOTAL_COUNT_HEADER}, **error_responses(401)},
    summary="List users",
)
async def list_users(
    _: CurrentUser,
    page: PageDep,
    email: Annotated[SearchText | None, Query(description="Email substring.")] = None,
    is_active: bool | None = None,
    order_by: Annotated[
        UserOrder,
        Query(
            description="Sort field, `-` for descending; ties by ascending id. Users "
            "without a username sort first on SQLite and last on PostgreSQL (ascending)."
        ),
    ] = "id",
    include: UserInclude = None,
) -> RowsResponse:
    users = User.all().matching(email=email, is_active=is_active)
    rows, total = await users.page(page.skip, page.limit, order_by, *USER_FIELDS)
    if include:
        await _with_items(rows)
    return page_response(rows, total)


@router.get(
    "/me",
    response_model=UserPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401)},
    summary="The caller",
)
async def read_me(caller: CurrentUser) -> RowsResponse:
    return row_response({field: caller.row[field] for field in USER_FIELDS}, caller.row["version"])


@router.get(
    "/{user_id:int}",
    response_model=UserWithItems | UserPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 404)},
    summary="One user",
)
async def read_user(_: CurrentUser, user_id: DbId, include: UserInclude = None) -> RowsResponse:
    user = await User.row(user_id)
    if user is None:
        raise UserNotFound
    row = {field: user[field] for field in USER_FIELDS}
    if include:
        await _with_items([row])
    return row_response(row, user["version"])


@router.patch(
    "/{user_id:int}",
    response_model=UserPublic,
    responses={
        200: {"headers": ETAG_HEADER},
        **error_responses(400, 401, 403, 404, 412, *LOCKING_ERRORS),
    },
    summary="Change a user: themself or a superuser; flags by a superuser only",
)
async def update_user(
    current: CurrentUser, user_id: DbId, body: UserUpdate, if_version: IfMatch, response: Response
) -> UserPublic:
    """A new password or a deactivation revokes every token the user was issued. The
    caller's rights and the user's version are checked on their locked rows."""
    changes = body.model_dump(exclude_unset=True)
    try:  # early, before hashing a password; decided again on the locked rows
        _check_may_change(current, user_id, changes)
    except Forbidden:
        raise (Forbidden() if await User.exists(id=user_id) else UserNotFound()) from None
    if "password" in changes:
        changes["hashed_password"] = await hash_password(changes.pop("password"))
    email, username = changes.get("email"), changes.get("username")
    try:
        async with in_transaction() as connection:
            caller, users = await User.lock_acting(
                current.id, current.token_version, user_id, using_db=connection
            )
            if (user := users.get(user_id)) is None:
                raise UserNotFound
            _check_may_change(caller, user_id, changes)
            user.check_version(if_version)
            if conflict := await User.conflict(email, username, exclude_id=user_id):
                raise conflict
            # Only the changed columns: a concurrent change to other fields must survive.
            await user.apply_changes(changes, if_version, connection)
    except IntegrityError:  # a concurrent change took the email or username first
        raise (await User.conflict(email, username, user_id) or EmailTaken()) from None
    response.headers["ETag"] = user.etag
    return UserPublic.model_validate(user)


@router.delete(
    "/{user_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 412, *LOCKING_ERRORS),
    summary="Delete a user and their items: themself or a superuser",
)
async def delete_user(current: CurrentUser, user_id: DbId, if_version: IfMatch) -> None:
    async with in_transaction() as connection:
        caller, users = await User.lock_acting(
            current.id, current.token_version, user_id, using_db=connection
        )
        if (user := users.get(user_id)) is None:
            raise UserNotFound
        _check_may_change(caller, user_id, {})
        await user.delete_checked(if_version, connection)


@router.get(
    "/{user_id:int}/items",
    response_model=list[ItemWithOwner | ItemPublic],
    responses={200: {"headers": TOTAL_COUNT_HEADER}, **error_responses(401, 404)},
    summary="A user's items",
)
async def list_user_items(
    _: CurrentUser,
    user_id: DbId,
    query: ItemListQuery,
    page: PageDep,
) -> RowsResponse:
    if not await User.exists(id=user_id):
        raise UserNotFound
    owner = USER_FIELDS if query.include else None
    rows, total = await (
        Item.filter(owner_id=user_id)
        .search(query.q)
        .page_with_owner(page.skip, page.limit, query.order_by, ITEM_FIELDS, owner)
    )
    return page_response(rows, total)
