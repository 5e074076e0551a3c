"""`/items`: each user's items, and moving them between users."""

from fastapi import Response, status
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.api.deps import CurrentUser, IfMatch, ItemInclude, ItemListQuery, PageDep
from app.api.errors import LOCKING_ERRORS, error_responses
from app.api.responses import (
    ETAG_HEADER,
    TOTAL_COUNT_HEADER,
    RowsResponse,
    page_response,
    row_response,
)
from app.api.routing import CollectionRouter
from app.core.errors import ItemNotFound, NotAuthenticated
from app.models import Item, User
from app.schemas.common import DbId
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


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemPublic,
    responses={201: {"headers": ETAG_HEADER}, **error_responses(400, 401)},
    summary="Create an item owned by the caller",
)
async def create_item(user: CurrentUser, body: ItemCreate) -> RowsResponse:
    """The caller is checked again after the INSERT, in its transaction: the INSERT's
    foreign-key check keeps a share lock on the caller's row until the commit, so a
    concurrent deactivation or deletion either came first (401) or waits for this."""
    try:
        async with in_transaction():
            item = await Item.create(owner_id=user.id, name=body.name, description=body.description)
            if await User.token_holder(user.id, user.token_version) is None:
                raise NotAuthenticated
    except IntegrityError:  # the caller's account was deleted since the token was checked
        raise NotAuthenticated from None
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
    owner = USER_FIELDS if query.include else None
    rows, total = await items.search(query.q).page_with_owner(
        page.skip, page.limit, query.order_by, ITEM_FIELDS, owner
    )
    return page_response(rows, total)


@router.post(
    "/transfer",
    response_model=list[ItemPublic],
    responses=error_responses(400, 401, 403, 404, *LOCKING_ERRORS),
    summary="Move items to another user, all or nothing",
)
async def transfer_items(user: CurrentUser, body: ItemTransfer) -> list[ItemPublic]:
    """Every item must exist and be the caller's (unless a superuser), and the new owner
    must exist; otherwise nothing moves. Items are answered in the order requested."""
    items = await Item.transfer(body.item_ids, body.new_owner_id, user.id, user.token_version)
    return [ItemPublic.model_validate(item) for item in items]


@router.get(
    "/{item_id:int}",
    response_model=ItemWithOwner | ItemPublic,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 404)},
    summary="One item",
)
async def read_item(_: CurrentUser, item_id: DbId, include: ItemInclude = None) -> RowsResponse:
    if include:  # the owner through a join
        row = await Item.with_owner(item_id, (*ITEM_FIELDS, "version"), USER_FIELDS)
    else:
        row = await Item.row(item_id)
    if row is None:
        raise ItemNotFound
    return row_response(row, row.pop("version"))


@router.patch(
    "/{item_id:int}",
    response_model=ItemPublic,
    responses={
        200: {"headers": ETAG_HEADER},
        **error_responses(400, 401, 403, 404, 412, *LOCKING_ERRORS),
    },
    summary="Change an item: its owner or a superuser",
)
async def update_item(
    user: CurrentUser, item_id: DbId, body: ItemUpdate, if_version: IfMatch, response: Response
) -> ItemPublic:
    """Owner and version are checked on the locked row, so the change cannot land on an
    item a concurrent transfer gave to someone else."""
    async with in_transaction() as connection:
        caller, _ = await User.lock_acting(user.id, user.token_version, using_db=connection)
        (item,) = await Item.lock_changeable([item_id], by=caller, using_db=connection)
        # Only the changed columns: a concurrent change to the others must survive.
        await item.apply_changes(body.model_dump(exclude_unset=True), if_version, connection)
    response.headers["ETag"] = item.etag
    return ItemPublic.model_validate(item)


@router.delete(
    "/{item_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 412, *LOCKING_ERRORS),
    summary="Delete an item: its owner or a superuser",
)
async def delete_item(user: CurrentUser, item_id: DbId, if_version: IfMatch) -> None:
    async with in_transaction() as connection:
        caller, _ = await User.lock_acting(user.id, user.token_version, using_db=connection)
        (item,) = await Item.lock_changeable([item_id], by=caller, using_db=connection)
        await item.delete_checked(if_version, connection)
