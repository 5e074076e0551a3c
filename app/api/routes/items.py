"""`/items`: each user's items, and moving them between users."""

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Response, status
from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.api.deps import (
    ETAG_HEADER,
    FORBIDDEN,
    ITEM_NOT_FOUND,
    PRECONDITION_FAILED,
    TOTAL_COUNT_HEADER,
    USER_NOT_FOUND,
    Caller,
    CurrentUser,
    IfMatch,
    Page,
    PageDep,
)
from app.api.errors import error_responses
from app.api.responses import RowsResponse, page_response, row_response
from app.api.routing import CollectionRouter
from app.models import Item, User
from app.schemas.common import DbId, SafeText
from app.schemas.item import (
    ITEM_FIELDS,
    ItemCreate,
    ItemPublic,
    ItemTransfer,
    ItemUpdate,
    ItemWithOwner,
)
from app.schemas.user import USER_FIELDS

router = CollectionRouter(prefix="/items", tags=["items"])

ItemOrder = Literal["id", "-id", "name", "-name", "created_at", "-created_at"]
ItemInclude = Annotated[
    Literal["owner"] | None, Query(description="`owner` adds each item's owner.")
]


class _ItemListQuery:
    """Filters and expansion shared by `GET /items/` and `GET /users/{id}/items`."""

    def __init__(
        self,
        q: Annotated[SafeText | None, Query(description="Name substring.")] = None,
        order_by: Annotated[
            ItemOrder, Query(description="Sort field, `-` for descending; ties by ascending id.")
        ] = "id",
        include: ItemInclude = None,
    ) -> None:
        self.q = q
        self.order_by = order_by
        self.include = include


ItemListQuery = Annotated[_ItemListQuery, Depends()]


# `include=owner`: the owner's columns come through a join, as owner__<field>.
OWNER_FIELDS = tuple(f"owner__{field}" for field in USER_FIELDS)


def _nest_owner(row: dict[str, Any]) -> dict[str, Any]:
    row["owner"] = {field: row.pop(f"owner__{field}") for field in USER_FIELDS}
    return row


async def list_items_of(items: QuerySet[Item], query: _ItemListQuery, page: Page) -> RowsResponse:
    if query.q:
        items = items.filter(name__icontains=query.q)
    if not query.include:
        return page_response(*await page.fetch(items, query.order_by, *ITEM_FIELDS))
    rows, total = await page.fetch(items, query.order_by, *ITEM_FIELDS, *OWNER_FIELDS)
    return page_response([_nest_owner(row) for row in rows], total)


async def _get_own_item(user: Caller, item_id: int) -> Item:
    """The item, if `user` may change it: its owner or a superuser."""
    item = await Item.get_or_none(id=item_id)
    if item is None:
        raise ITEM_NOT_FOUND
    if not (user.is_superuser or item.owner_id == user.id):
        raise FORBIDDEN
    return item


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemPublic,
    responses={201: {"headers": ETAG_HEADER}, **error_responses(400, 401)},
    summary="Create an item owned by the caller",
)
async def create_item(user: CurrentUser, body: ItemCreate) -> RowsResponse:
    item = await Item.create(owner_id=user.id, name=body.name, description=body.description)
    row = {field: getattr(item, field) for field in ITEM_FIELDS}
    return row_response(row, item.version, status.HTTP_201_CREATED)


@router.get(
    "/",
    response_model=list[ItemWithOwner | ItemPublic],
    responses={200: {"headers": TOTAL_COUNT_HEADER}, **error_responses(401)},
    summary="List items",
)
async def list_items(
    _: CurrentUser,
    query: ItemListQuery,
    page: PageDep,
    owner_id: DbId | None = None,
) -> RowsResponse:
    items = Item.all() if owner_id is None else Item.filter(owner_id=owner_id)
    return await list_items_of(items, query, page)


@router.post(
    "/transfer",
    response_model=list[ItemPublic],
    responses=error_responses(400, 401, 403, 404),
    summary="Move items to another user, all or nothing",
)
async def transfer_items(user: CurrentUser, body: ItemTransfer) -> list[ItemPublic]:
    """Every item must exist and be the caller's (unless a superuser), and the new owner
    must exist; otherwise nothing moves. Items are answered in the order requested."""
    try:
        async with in_transaction() as connection:
            items = await Item.filter(id__in=body.item_ids).select_for_update().using_db(connection)
            if len(items) != len(body.item_ids):
                raise ITEM_NOT_FOUND
            if not user.is_superuser and any(item.owner_id != user.id for item in items):
                raise FORBIDDEN
            if (
                not await User.filter(id=body.new_owner_id)
                .select_for_update()
                .using_db(connection)
                .exists()
            ):
                raise USER_NOT_FOUND
            now = timezone.now()
            await (
                Item.filter(id__in=body.item_ids)
                .using_db(connection)
                .update(owner_id=body.new_owner_id, updated_at=now, version=F("version") + 1)
            )
    except IntegrityError:  # the new owner was deleted after we looked
        raise USER_NOT_FOUND from None
    by_id = {item.id: item for item in items}
    for item in items:
        item.owner_id, item.updated_at = body.new_owner_id, now
    return [ItemPublic.model_validate(by_id[item_id]) for item_id in body.item_ids]


@router.get(
    "/{item_id}",
    response_model=ItemWithOwner | ItemPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 404)},
    summary="One item",
)
async def read_item(_: CurrentUser, item_id: DbId, include: ItemInclude = None) -> RowsResponse:
    if include:  # the owner through a join
        fields = (*ITEM_FIELDS, *OWNER_FIELDS, "version")
        row = await Item.filter(id=item_id).first().values(*fields)
        row = _nest_owner(row) if row else None
    else:
        row = await Item.row(item_id)
    if row is None:
        raise ITEM_NOT_FOUND
    return row_response(row, row.pop("version"))


@router.patch(
    "/{item_id}",
    response_model=ItemPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(400, 401, 403, 404, 412)},
    summary="Change an item: its owner or a superuser",
)
async def update_item(
    user: CurrentUser, item_id: DbId, body: ItemUpdate, if_version: IfMatch, response: Response
) -> ItemPublic:
    item = await _get_own_item(user, item_id)
    # Only the changed columns: a concurrent transfer must not be undone by a rename.
    if not await item.apply_changes(body.model_dump(exclude_unset=True), if_version):
        raise PRECONDITION_FAILED if await Item.exists(id=item.id) else ITEM_NOT_FOUND
    response.headers["ETag"] = item.etag
    return ItemPublic.model_validate(item)


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 412),
    summary="Delete an item: its owner or a superuser",
)
async def delete_item(user: CurrentUser, item_id: DbId, if_version: IfMatch) -> None:
    item = await _get_own_item(user, item_id)
    if not await item.delete_if(if_version):
        raise PRECONDITION_FAILED if await Item.exists(id=item.id) else ITEM_NOT_FOUND
