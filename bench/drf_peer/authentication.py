"""The service's bearer tokens, checked by the rules of bench/baseline.py.

An HS256 JWT signed with SECRET_KEY, with `sub` (the user id), `ver` (the user's
`token_version` when it was issued) and `exp` required; its user must exist, be active
and still be at that token version (a password change or deactivation revokes). No
Authorization header, or another scheme, is no credentials: DRF's NotAuthenticated, which
the exception handler words as the service does.
"""

from typing import Any

import jwt
from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from bench.drf_peer.models import User
from bench.drf_peer.serializers import INT32_MAX

BAD_TOKEN = "Could not validate credentials"
CLAIMS = {"require": ["sub", "ver", "exp"]}


class BearerAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, dict[str, Any]] | None:
        scheme, _, token = authentication.get_authorization_header(request).partition(b" ")
        if scheme.lower() != b"bearer":  # also no header; "Bearer " then fails to decode
            return None
        try:
            claims = jwt.decode(
                token.strip(), settings.SECRET_KEY, algorithms=["HS256"], options=CLAIMS
            )
            user_id, version = int(claims["sub"]), claims["ver"]
        except (jwt.PyJWTError, ValueError, TypeError):
            raise exceptions.AuthenticationFailed(BAD_TOKEN) from None
        if not (0 < user_id <= INT32_MAX and isinstance(version, int)):
            raise exceptions.AuthenticationFailed(BAD_TOKEN)
        try:
            user = User.objects.get(pk=user_id)
        except User.DoesNotExist:
            raise exceptions.AuthenticationFailed(BAD_TOKEN) from None
        if not user.is_active or user.token_version != version:
            raise exceptions.AuthenticationFailed(BAD_TOKEN)
        return user, claims

    def authenticate_header(self, request: Request) -> str:
        """What a 401 answers in WWW-Authenticate (without one DRF would answer 403)."""
        return self.keyword
