"""A router whose paths answer with and without the trailing slash, and the `id` path
convertor its routes use for ids (`/users/{user_id:id}`)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.datastructures import DefaultPlaceholder
from starlette.convertors import IntegerConvertor, register_url_convertor

from app.api.answers import answering
from app.core.limits import INT32_MAX


class IdConvertor(IntegerConvertor):
    """Digits, as an `int`; past ten significant digits (more than any 32-bit id), one past
    the largest id, so the route answers as for any id out of range. Starlette's `int`
    would raise for more than 4300 digits (Python's limit on converting text): a 500."""

    def convert(self, value: str) -> int:
        digits = value.lstrip("0") or "0"
        return int(digits) if len(digits) <= len(str(INT32_MAX)) else INT32_MAX + 1


register_url_convertor("id", IdConvertor())


class CollectionRouter(APIRouter):
    """Registers every route a second time with the trailing slash toggled (`/things/` and
    `/things`), hidden from the schema, so clients get the same answer either way instead
    of a redirect; a route with a `response_model` answers through the writer built from
    it (`app/api/answers.py`)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        response_model = kwargs.get("response_model")
        if isinstance(response_model, DefaultPlaceholder):
            response_model = response_model.value
        if response_model is not None:
            endpoint = answering(endpoint, response_model, kwargs.get("status_code"))
        super().add_api_route(path, endpoint, **kwargs)
        alias = path.removesuffix("/") if path.endswith("/") else f"{path}/"
        super().add_api_route(alias, endpoint, **{**kwargs, "include_in_schema": False})
