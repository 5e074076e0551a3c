"""The endpoints the bench drives, as a DRF user writes them: GenericViewSets with the
mixins they need, querysets with `select_related` / `prefetch_related` for `include=`,
serializer classes by shape, the pagination class of pagination.py, and APIViews for
sign-in and health.

Customised only where DRF's defaults answer otherwise than the service: 422 rather than
400 for invalid input, the service's words for a request without credentials, the
service's messages for an unknown user and bad credentials, and a JSON 404 for unknown
paths.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, JsonResponse
from passlib.context import CryptContext
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from bench.drf_peer.models import Item, User
from bench.drf_peer.serializers import (
    IncludeItems,
    IncludeOwner,
    ItemSerializer,
    ItemWithOwnerSerializer,
    TokenRequest,
    UserId,
    UserSerializer,
    UserWithItemsSerializer,
    validated,
)

NOT_AUTHENTICATED = "Not authenticated"
BAD_CREDENTIALS = "Incorrect email or password"
# include=items embeds each user's first EMBEDDED items (lowest ids), as the service.
EMBEDDED = 100
COMPACT = {"separators": (",", ":")}

pwd_context = CryptContext(
    schemes=["argon2"],
    argon2__time_cost=settings.ARGON2_TIME_COST,
    argon2__memory_cost=settings.ARGON2_MEMORY_COST,
    argon2__parallelism=settings.ARGON2_PARALLELISM,
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with FastAPI's status for invalid input (422; the body stays DRF's
    `{"field": ["message"]}`, the bench compares only the status) and the service's
    message for no credentials."""
    if isinstance(exc, exceptions.NotAuthenticated):
        exc.detail = exceptions.ErrorDetail(NOT_AUTHENTICATED, exc.default_code)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.status_code = 422
    return response


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    """handler404: an unknown path (`/users/abc` too) as Starlette answers it."""
    return JsonResponse({"detail": "Not Found"}, status=404, json_dumps_params=COMPACT)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = "[0-9]+"  # other ids are no route: 404

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authenticated first, as the service
        self.include = validated(IncludeItems, request.query_params).get("include")

    def get_queryset(self) -> QuerySet[User]:
        users = User.objects.order_by("id")
        if self.include:
            # A sliced Prefetch (one window-function query) needs its own attribute.
            first = Item.objects.order_by("id")[:EMBEDDED]
            users = users.prefetch_related(Prefetch("items", first, to_attr="first_items"))
        return users

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return UserWithItemsSerializer if self.include else UserSerializer

    def get_object(self) -> User:
        user_id = validated(UserId, {"user_id": self.kwargs["pk"]})["user_id"]
        try:
            user = self.get_queryset().get(pk=user_id)
        except User.DoesNotExist:
            raise exceptions.NotFound("User not found") from None
        self.check_object_permissions(self.request, user)
        return user


class ItemViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        query = validated(IncludeOwner, request.query_params) if self.action == "list" else {}
        self.include = query.get("include")

    def get_queryset(self) -> QuerySet[Item]:
        items = Item.objects.order_by("id")
        return items.select_related("owner") if self.include else items

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ItemWithOwnerSerializer if self.include else ItemSerializer

    def perform_create(self, serializer: serializers.Serializer) -> None:
        serializer.save(owner=self.request.user)


class LoginView(APIView):
    """The OAuth2 password flow, as the seed style's: the email (with an @) or the
    username, case-insensitive; the argon2 hash verified by passlib; a token with the
    service's claims (`ver` too, which BearerAuthentication requires)."""

    permission_classes = (AllowAny,)

    def perform_authentication(self, request: Request) -> None:
        """Never authenticated (the authenticator stays, for WWW-Authenticate on 401)."""

    def post(self, request: Request) -> Response:
        form = validated(TokenRequest, request.data)
        login_name = form["username"].lower()
        lookup = {"email": login_name} if "@" in login_name else {"username_lower": login_name}
        user = User.objects.filter(**lookup).first()
        if user is None or not pwd_context.verify(form["password"], user.hashed_password):
            raise exceptions.AuthenticationFailed(BAD_CREDENTIALS)
        if not user.is_active:
            return Response({"detail": "Inactive user"}, status=400)
        now = datetime.now(UTC)
        expires = now + timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
        claims = {"sub": str(user.id), "ver": user.token_version, "iat": now, "exp": expires}
        token = jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")
        return Response({"access_token": token, "token_type": "bearer"})


class HealthView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok", "database": "ok"})
