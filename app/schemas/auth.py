"""What `/auth` takes and answers: token pairs and sessions."""

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import PUBLIC_SHAPE, STRICT_BODY, UtcDatetime

# A refresh token as this service signs it is about 150 characters.
REFRESH_TOKEN_MAX_LENGTH = 1024


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid for.")
    refresh_token: str = Field(
        description="For `POST /auth/refresh`, once: it answers a new pair. Valid "
        "`REFRESH_TOKEN_DAYS` (default 30) from when it was issued."
    )


class RefreshRequest(BaseModel):
    model_config = STRICT_BODY

    refresh_token: str = Field(max_length=REFRESH_TOKEN_MAX_LENGTH)


class SessionRead(BaseModel):
    """One sign-in of the caller that is still live."""

    model_config = PUBLIC_SHAPE

    id: int
    created_at: UtcDatetime
    last_used_at: UtcDatetime = Field(description="The sign-in or the last refresh.")
    user_agent: str | None = Field(description="The signing-in client's, cut to 255 characters.")
    current: bool = Field(description="Whether this is the session of the caller's token.")
