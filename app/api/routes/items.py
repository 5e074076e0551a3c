"""`/items`: each user's items, and moving them between users."""

from typing import Annotated

from fastapi import Query, Response, status

from app.api.deps import (
    CurrentUser,
    IdempotencyDep,
    IfMatch,
    ItemInclude,
    ItemListQuery,
    PageDep,
)
from app.api.errors import IDEMPOTENCY_ERRORS, LOCKING_ERRORS, error_responses
from app.api.responses import ETAG_HEADER, LIST_HEADERS, REPLAYED_HEADER
from app.api.routing import CollectionRouter
from app.core.errors import ItemNotFound
from app.models import Item
from app.schemas.common import DbId
from app.schemas.item import ItemCreate, ItemPublic, ItemRead, ItemTransfer, ItemUpdate

router = CollectionRouter(prefix="/items", tags=["items"])


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemPublic,
    responses={
        201: {"headers": {**ETAG_HEADER, **REPLAYED_HEADER}},
        **error_responses(400, 401, *IDEMPOTENCY_ERRORS),
    },
    summary="Create an item owned by the caller",
)
async def create_item(
    user: CurrentUser, body: ItemCreate, response: Response, once: IdempotencyDep
) -> Item:
    async def create() -> Item:
        item = await Item.create_owned(by=user, name=body.name, description=body.description)
        response.headers["ETag"] = item.etag
        return item

    return await once.answer(user, ItemPublic, status.HTTP_201_CREATED, create)


@router.get(
    "/",
    response_model=list[ItemRead],
    responses={200: {"headers": LIST_HEADERS}, **error_responses(400, 401)},
    summary="List items",
)
async def list_items(
    _: CurrentUser,
    query: ItemListQuery,
    page: PageDep,
    response: Response,
    owner_id: Annotated[DbId | None, Query(description="Only this user's items.")] = None,
) -> list[Item]:
    items = Item.all().of_owner(owner_id).search(query.q)
    if query.include:  # the owners through a join
        items = items.select_related("owner")
    return page.answer(response, await items.page(page.window(query.order_by)))


@router.post(
    "/transfer",
    response_model=list[ItemPublic],
    responses={
        200: {"headers": REPLAYED_HEADER},
        **error_responses(400, 401, 403, 404, *LOCKING_ERRORS, *IDEMPOTENCY_ERRORS),
    },
    summary="Move items to another user, all or nothing",
)
async def transfer_items(user: CurrentUser, body: ItemTransfer, once: IdempotencyDep) -> list[Item]:
    """Every item must exist and be the caller's (unless a superuser), and the new owner
    must exist; otherwise nothing moves. Items are answered in the order requested."""

    async def transfer() -> list[Item]:
        return await Item.transfer(body.item_ids, to=body.new_owner_id, by=user)

    return await once.answer(user, list[ItemPublic], status.HTTP_200_OK, transfer)


@router.get(
    "/{item_id:id}",
    response_model=ItemRead,
    responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 404)},
    summary="One item",
)
async def read_item(
    _: CurrentUser, item_id: DbId, response: Response, include: ItemInclude = None
) -> Item:
    if include:  # the owner through a join
        item = await Item.filter(id=item_id).select_related("owner").first()
    else:
        item = await Item.get_or_none(id=item_id)
    if item is None:
        raise ItemNotFound
    response.headers["ETag"] = item.etag
    return item


@router.patch(
    "/{item_id:id}",
    response_model=ItemPublic,
    responses={
        200: {"headers": ETAG_HEADER},
        **error_responses(400, 401, 403, 404, 412, *LOCKING_ERRORS),
    },
    summary="Change an item: its owner or a superuser",
)
async def update_item(
    user: CurrentUser, item_id: DbId, body: ItemUpdate, if_version: IfMatch, response: Response
) -> Item:
    changes = body.model_dump(exclude_unset=True)
    item = await Item.change(item_id, changes, if_version, by=user)
    response.headers["ETag"] = item.etag
    return item


@router.delete(
    "/{item_id:id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 412, *LOCKING_ERRORS),
    summary="Delete an item: its owner or a superuser",
)
async def delete_item(user: CurrentUser, item_id: DbId, if_version: IfMatch) -> None:
    await Item.remove(item_id, if_version, by=user)
