"""Answer bodies written straight from the loaded model objects, by a writer built once
from the route's `response_model`.

FastAPI answers a route with a `response_model` by validating the returned objects into
that schema (pydantic, `from_attributes`) and writing the validated copy as JSON: every
object is read twice and built once more, and each timestamp costs a Python call to keep
the contract's `+00:00` (pydantic-core writes `Z`). On a page of 50 users with their 250
items that was 2.4 ms of the request's ~7 ms of CPU (bench/ANALYSIS.md).

Here the schema is walked once, when the route is added, into a function that reads the
schema's fields off the objects (`operator.attrgetter`, in C) into plain lists and dicts,
in the schema's field order; orjson writes them, timestamps with their offset as
`datetime.isoformat` does. The tagged unions of `include=` pick their shape with their
own discriminator. A schema with anything else (validators, other serializers, types not
listed in `_SCALARS`) keeps FastAPI's own path. The schema, and so the OpenAPI document,
is the `response_model` as declared: `tests/test_answers.py` checks that the bytes are
pydantic's, for every response model of the app.
"""

import inspect
import types
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache, update_wrapper
from operator import attrgetter, itemgetter
from typing import Annotated, Any, Literal, Union

import orjson
from fastapi import Response
from pydantic import BaseModel, Discriminator, PlainSerializer, Tag, TypeAdapter

ToData = Callable[[Any], Any]

_SCALARS = (int, str, bool, float, datetime, types.NoneType)


def _same(value: Any) -> Any:
    return value


def _to_data(annotation: Any) -> ToData | None:
    """A function from objects of `annotation`'s shape to JSON-ready data; None when the
    shape is not one this module writes exactly as pydantic would."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *extras = typing.get_args(annotation)
        return _annotated(inner, extras)
    if origin in (Union, types.UnionType):
        choices = [c for c in typing.get_args(annotation) if c is not types.NoneType]
        if len(choices) != 1:
            return None
        inner = _to_data(choices[0])
        if inner is None:
            return None
        return inner if inner is _same else lambda value: None if value is None else inner(value)
    if origin is list:
        (item,) = typing.get_args(annotation)
        each = _to_data(item)
        if each is None:
            return None
        return list if each is _same else lambda values: [each(value) for value in values]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model(annotation)
    if annotation in _SCALARS:
        return _same
    if origin is Literal and all(type(v) in (str, int, bool) for v in typing.get_args(annotation)):
        return _same
    return None


def _annotated(inner: Any, extras: list[Any]) -> ToData | None:
    discriminators = [extra for extra in extras if isinstance(extra, Discriminator)]
    if discriminators:  # a tagged union: `Annotated[A, Tag(..)] | Annotated[B, Tag(..)]`
        return _tagged_union(inner, discriminators[0])
    for extra in extras:
        if isinstance(extra, PlainSerializer) and not (
            extra.func is datetime.isoformat and inner is datetime
        ):
            return None  # orjson writes an aware datetime as isoformat does, nothing else
        if isinstance(extra, Tag):
            return None  # only inside a tagged union
    return _to_data(inner)


def _tagged_union(union: Any, discriminator: Discriminator) -> ToData | None:
    if not callable(discriminator.discriminator):
        return None
    by_tag = {}
    for choice in typing.get_args(union):
        shape, *tags = typing.get_args(choice)
        tag = next((t.tag for t in tags if isinstance(t, Tag)), None)
        writer = _to_data(shape)
        if tag is None or writer is None:
            return None
        by_tag[tag] = writer
    pick = discriminator.discriminator
    return lambda value: by_tag[pick(value)](value)


def _model(model: type[BaseModel]) -> ToData | None:
    if model.__pydantic_decorators__.field_validators and not _only_relation_lists(model):
        return None
    decorators = model.__pydantic_decorators__
    if decorators.model_validators or decorators.field_serializers or decorators.model_serializers:
        return None
    if decorators.computed_fields or model.model_config.get("alias_generator"):
        return None
    names, writers = [], []
    for name, field in model.model_fields.items():
        if field.alias not in (None, name) or field.serialization_alias not in (None, name):
            return None
        annotation = field.rebuild_annotation()
        writer = _to_data(annotation)
        if writer is None:
            return None
        names.append(name)
        writers.append(writer)
    read_attributes = attrgetter(*names)
    read_keys = itemgetter(*names)  # a route may answer a dict of the model's fields
    if len(names) == 1:
        read_attributes, read_keys = _one(read_attributes), _one(read_keys)
    converted = [(i, w) for i, w in enumerate(writers) if w is not _same]

    def to_dict(obj: Any) -> dict[str, Any]:
        values = read_keys(obj) if isinstance(obj, dict) else read_attributes(obj)
        if converted:
            values = list(values)
            for index, writer in converted:
                values[index] = writer(values[index])
        return dict(zip(names, values, strict=True))

    return to_dict


def _one(read: Callable[[Any], Any]) -> Callable[[Any], tuple[Any]]:
    return lambda obj: (read(obj),)


def _only_relation_lists(model: type[BaseModel]) -> bool:
    """The one field validator the schemas use: a fetched relation taken as a list."""
    validators = model.__pydantic_decorators__.field_validators.values()
    return all(
        v.info.mode == "before"
        and all(typing.get_origin(model.model_fields[f].annotation) is list for f in v.info.fields)
        for v in validators
    )


@cache
def writer_for(response_model: Any) -> Callable[[Any], bytes]:
    """The JSON bytes of `response_model` for a route's returned objects: by the built
    writer, or pydantic's validation and dump where the shape is not covered."""
    to_data = _to_data(response_model)
    if to_data is not None:
        return lambda content: orjson.dumps(to_data(content))
    adapter = TypeAdapter(response_model)
    return lambda content: adapter.dump_json(adapter.validate_python(content, from_attributes=True))


def answering(endpoint: Callable[..., Any], response_model: Any, status_code: int | None):
    """`endpoint`, answering its return value as `response_model`'s JSON: the headers and
    status it set on FastAPI's `Response` parameter are kept, a `Response` it returns
    passes as it is."""
    write = writer_for(response_model)
    signature = inspect.signature(endpoint)
    given = next((p.name for p in signature.parameters.values() if p.annotation is Response), None)
    response_name = given or "_answer_response"

    async def answer(**kwargs: Any) -> Any:
        sub_response = kwargs[response_name] if given else kwargs.pop(response_name)
        result = await endpoint(**kwargs)
        if isinstance(result, Response):
            return result
        response = Response(
            write(result),
            status_code=sub_response.status_code or status_code or 200,
            media_type="application/json",
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    update_wrapper(answer, endpoint)
    del answer.__wrapped__  # type: ignore[attr-defined]
    parameters = list(signature.parameters.values())
    if not given:
        parameters.append(
            inspect.Parameter(response_name, inspect.Parameter.KEYWORD_ONLY, annotation=Response)
        )
    answer.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return answer
