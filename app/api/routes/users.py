"""`/users`: sign-up, listing, and each account's own management."""

from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query, Response, status
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.api.deps import (
    ETAG_HEADER,
    FORBIDDEN,
    PRECONDITION_FAILED,
    TOTAL_COUNT_HEADER,
    USER_NOT_FOUND,
    CurrentUser,
    IfMatch,
    PageDep,
)
from app.api.errors import error_responses
from app.api.responses import RowsResponse, page_response, row_response
from app.api.routes.items import ItemListQuery, list_items_of
from app.api.routing import CollectionRouter
from app.core.security import hash_password
from app.models import Item, User
from app.schemas.common import DbId, SafeText
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


async def _get_user(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise USER_NOT_FOUND
    return user


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=error_responses(400),
    summary="Sign up, optionally with items, in one transaction",
)
async def create_user(body: UserCreate) -> UserPublic:
    if message := await User.conflict(body.email, body.username):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, message)
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
        message = await User.conflict(body.email, body.username) or "Email already registered"
        raise HTTPException(status.HTTP_400_BAD_REQUEST, message) from None
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
    email: Annotated[SafeText | None, Query(description="Email substring.")] = None,
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
    users = User.all()
    if email:
        users = users.filter(email__contains=email.lower())
    if is_active is not None:
        users = users.filter(is_active=is_active)
    rows, total = await page.fetch(users, order_by, *USER_FIELDS)
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
    "/{user_id}",
    response_model=UserWithItems | UserPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 404)},
    summary="One user",
)
async def read_user(_: CurrentUser, user_id: DbId, include: UserInclude = None) -> RowsResponse:
    user = await User.row(user_id)
    if user is None:
        raise USER_NOT_FOUND
    row = {field: user[field] for field in USER_FIELDS}
    if include:
        await _with_items([row])
    return row_response(row, user["version"])


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(400, 401, 403, 404, 412)},
    summary="Change a user: themself or a superuser; flags by a superuser only",
)
async def update_user(
    current: CurrentUser, user_id: DbId, body: UserUpdate, if_version: IfMatch, response: Response
) -> UserPublic:
    """A new password or a deactivation revokes every token the user was issued."""
    user = await _get_user(user_id)
    changes = body.model_dump(exclude_unset=True)
    may_edit = current.is_superuser or current.id == user.id
    if not may_edit or (
        not current.is_superuser and changes.keys() & {"is_active", "is_superuser"}
    ):
        raise FORBIDDEN
    if if_version is not None and user.version not in if_version:
        raise PRECONDITION_FAILED
    if message := await User.conflict(
        changes.get("email"), changes.get("username"), exclude_id=user.id
    ):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, message)
    if "password" in changes:
        changes["hashed_password"] = await hash_password(changes.pop("password"))
    try:
        # Only the changed columns: a concurrent change to other fields must survive.
        applied = await user.apply_changes(changes, if_version)
    except IntegrityError:
        message = await User.conflict(
            changes.get("email"), changes.get("username"), exclude_id=user.id
        )
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, message or "Email already registered"
        ) from None
    if not applied:
        raise PRECONDITION_FAILED if await User.exists(id=user.id) else USER_NOT_FOUND
    response.headers["ETag"] = user.etag
    return UserPublic.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 412),
    summary="Delete a user and their items: themself or a superuser",
)
async def delete_user(current: CurrentUser, user_id: DbId, if_version: IfMatch) -> None:
    user = await _get_user(user_id)
    if not (current.is_superuser or current.id == user.id):
        raise FORBIDDEN
    if not await user.delete_if(if_version):
        raise PRECONDITION_FAILED if await User.exists(id=user.id) else USER_NOT_FOUND


@router.get(
    "/{user_id}/items",
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
        raise USER_NOT_FOUND
    return await list_items_of(Item.filter(owner_id=user_id), query, page)
