"""A router whose paths answer with and without the trailing slash."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class CollectionRouter(APIRouter):
    """Registers every route a second time with the trailing slash toggled (`/things/` and
    `/things`), hidden from the schema, so clients get the same answer either way instead
    of a redirect."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        alias = path.removesuffix("/") if path.endswith("/") else f"{path}/"
        super().add_api_route(alias, endpoint, **{**kwargs, "include_in_schema": False})
