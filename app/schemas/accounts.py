"""The bodies of password reset and email verification, and their 202 answer."""

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from app.schemas.common import STRICT_BODY
from app.schemas.user import Email, Password

# What a mail's `Token: ` line carries; anything longer is no token (400, not 422).
Token = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class PasswordResetRequest(BaseModel):
    model_config = STRICT_BODY

    email: Email


class PasswordResetConfirm(BaseModel):
    model_config = STRICT_BODY

    token: Token
    password: Password


class EmailVerification(BaseModel):
    model_config = STRICT_BODY

    token: Token


class Accepted(BaseModel):
    """A 202: the mail, if any, leaves within seconds, after the answer."""

    detail: str
