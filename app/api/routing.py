"""A router whose collection paths answer with and without the trailing slash."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class CollectionRouter(APIRouter):
    """Registers `/things/` routes a second time as `/things`, hidden from the schema, so
    clients get the same answer either way instead of a redirect."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        if path.endswith("/"):
            super().add_api_route(
                path.rstrip("/"), endpoint, **{**kwargs, "include_in_schema": False}
            )
