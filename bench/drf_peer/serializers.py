"""ModelSerializers for the service's JSON, and the query strings it validates.

Two field classes stand in for DRF's where its defaults answer otherwise than the
service: timestamps as `datetime.isoformat()` in UTC (`2026-01-31T12:00:00.123456+00:00`;
DRF writes `Z`), and strings taken only as JSON strings, as sent (the service's strict
pydantic `str`; DRF's CharField also takes numbers and trims whitespace). The shapes are
the service's oneOf: a user with `items` only for `include=items`, an item with `owner`
only for `include=owner` (two serializers each, as in the seed style's schemas).
"""

from datetime import UTC, datetime
from typing import Any

from django.db import models
from rest_framework import serializers

from bench.drf_peer.models import Item, User

INT32_MAX = 2**31 - 1


class UtcDateTimeField(serializers.DateTimeField):
    def to_representation(self, value: datetime) -> str:
        return value.astimezone(UTC).isoformat()


class StrictCharField(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ServiceModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose timestamp and text columns map to the fields above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }


class ItemSerializer(ServiceModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "name", "description", "owner_id", "created_at", "updated_at"]
        read_only_fields = ["id", "owner_id", "created_at", "updated_at"]
        extra_kwargs = {"description": {"max_length": 10_000}}  # the service's bound


class UserSerializer(ServiceModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "is_active",
            "is_superuser",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class UserWithItemsSerializer(UserSerializer):
    items = ItemSerializer(source="first_items", many=True, read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "items"]


class ItemWithOwnerSerializer(ItemSerializer):
    owner = UserSerializer(read_only=True)

    class Meta(ItemSerializer.Meta):
        fields = [*ItemSerializer.Meta.fields, "owner"]


class PageQuery(serializers.Serializer):
    """`?skip=&limit=` as the service bounds them: out of range is an error, not clamped
    as LimitOffsetPagination would."""

    skip = serializers.IntegerField(min_value=0, max_value=INT32_MAX, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=100)


class IncludeItems(serializers.Serializer):
    """`?include=items` on the users, or no `include`."""

    include = serializers.ChoiceField(choices=["items"], required=False)


class IncludeOwner(serializers.Serializer):
    """`?include=owner` on the items, or no `include`."""

    include = serializers.ChoiceField(choices=["owner"], required=False)


class UserId(serializers.Serializer):
    """The `{user_id}` of `/users/{user_id}`: a positive 32-bit id, else 422."""

    user_id = serializers.IntegerField(min_value=1, max_value=INT32_MAX)


class TokenRequest(serializers.Serializer):
    """The OAuth2 password form of `POST /auth/token`."""

    username = serializers.CharField(trim_whitespace=False, allow_blank=True)
    password = serializers.CharField(trim_whitespace=False, allow_blank=True)


def validated(query: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """`data` checked by the serializer `query`: its values, or a ValidationError (422)."""
    checked = query(data=data)
    checked.is_valid(raise_exception=True)
    return checked.validated_data
