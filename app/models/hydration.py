"""Fast hydration: model objects built from database rows without Tortoise's per-attribute
`Model.__setattr__`.

Tortoise 1.1.9's `Model._init_from_db` sets four bookkeeping attributes and every column
with `object.__setattr__`, one call each; profiling a page of 50 users with 250 items
showed that, with the `Model.__setattr__` calls it makes for the bookkeeping, as the
largest single cost of building the page's objects. Here the same values are computed
the same way, then stored with one `__dict__.update`. Rows that lack columns (`.only()`)
take Tortoise's own path. `tests/test_hydration.py` compares the objects with stock
Tortoise's attribute by attribute and pins the Tortoise version this was checked against.

Upstream-ready: the same change in `tortoise/models.py` (`Model._init_from_db`) would be
to build the attribute dict and assign it once, keeping the `.only()` fallback as is.
"""

from typing import Any, Self

from tortoise.models import Model

# The Tortoise version whose `Model._init_from_db` this reproduces.
CHECKED_AGAINST_TORTOISE = "1.1.9"


class FastHydration(Model):
    class Meta:
        abstract = True

    @classmethod
    def _init_from_db(cls, **kwargs: Any) -> Self:
        meta = cls._meta
        values: dict[str, Any] = {
            "_partial": False,
            "_saved_in_db": True,
            "_custom_generated_pk": meta.db_pk_column not in meta.generated_db_fields,
            "_await_when_save": {},
        }
        try:
            for key, model_field, _field in meta.db_native_fields:
                values[model_field] = kwargs[key]
            for key, model_field, field in meta.db_default_fields:
                value = kwargs[key]
                values[model_field] = value if value is None else field.field_type(value)
            for key, model_field, field in meta.db_complex_fields:
                values[model_field] = field.to_python_value(kwargs[key])
        except KeyError:  # a partial row (`.only()`): Tortoise's own, slower path
            return super()._init_from_db(**kwargs)
        instance = cls.__new__(cls)
        instance.__dict__.update(values)
        return instance
