"""Sign-in sessions: each `POST /auth/token` starts one; its access and refresh tokens
belong to it, and ending it revokes both."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Self

from tortoise import fields, timezone
from tortoise.expressions import Q

from app.core.config import get_settings
from app.models.base import AppModel, PagedQuerySet, manager_for
from app.models.fields import utc_datetime

if TYPE_CHECKING:
    from app.models.user import User

# What is kept of a client's User-Agent header.
USER_AGENT_MAX_LENGTH = 255


def refresh_expiry(now: datetime) -> datetime:
    return now + timedelta(days=get_settings().refresh_token_days)


class SessionQuerySet(PagedQuerySet["Session"]):
    def live(self, user: "User") -> Self:
        """The user's sessions that still work: not ended, not revoked by a newer token
        version (password change, deactivation), refresh token not expired."""
        return self.filter(
            user_id=user.id,
            ended_at__isnull=True,
            token_version=user.token_version,
            refresh_expires_at__gt=timezone.now(),
        )


class Session(AppModel):
    id = fields.IntField(primary_key=True)
    # Deleting the account deletes its sessions (and so revokes their tokens).
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE, db_index=True
    )
    created_at = utc_datetime(auto_now_add=True)
    # The sign-in or the last refresh: not every request, which would cost a write each.
    last_used_at = utc_datetime()
    user_agent = fields.CharField(max_length=USER_AGENT_MAX_LENGTH, null=True)
    # SHA-256 of the current refresh token's secret: the token itself is never stored.
    refresh_hash = fields.CharField(max_length=64)
    refresh_expires_at = utc_datetime()
    ended_at = utc_datetime(null=True)
    # The user's token_version at sign-in: once the user's moves on, the session is over,
    # without a write to each of the user's sessions.
    token_version = fields.IntField()

    user_id: int
    # Set for the caller's listing: whether this is the session of the caller's token.
    current: bool = False

    class Meta:
        table = "auth_sessions"
        ordering = ["id"]
        manager = manager_for(SessionQuerySet)

    def holder(self) -> tuple[int, int, int]:
        """What an access token of this session carries: `User.by_token`'s arguments."""
        return self.user_id, self.token_version, self.id

    @classmethod
    async def start(cls, user: "User", user_agent: str | None, refresh_hash: str) -> Self:
        """A new session of `user` whose refresh token's secret hashes to `refresh_hash`.
        The user's sessions that are over are dropped on the way, so the table holds
        about the live ones."""
        now = timezone.now()
        over = Q(ended_at__isnull=False) | Q(token_version__not=user.token_version)
        await cls.filter(Q(user_id=user.id) & (over | Q(refresh_expires_at__lte=now))).delete()
        return await cls.create(
            user_id=user.id,
            last_used_at=now,
            user_agent=user_agent[:USER_AGENT_MAX_LENGTH] if user_agent else None,
            refresh_hash=refresh_hash,
            refresh_expires_at=refresh_expiry(now),
            token_version=user.token_version,
        )

    @classmethod
    async def rotate(cls, session_id: int, presented_hash: str, new_hash: str) -> Self | None:
        """Swap the session's refresh token for a new one, if `presented_hash` is its
        current one and the session has not ended or expired: one conditional UPDATE, so
        of two refreshes with one token at most one rotates. Any other token naming the
        session (a used one: the only kind a signed token that misses can be) ends it.
        Returns the rotated session, or None. Whether the user still holds it (token
        version, active) is the caller's check (`User.by_token`)."""
        now = timezone.now()
        rotated = await cls.filter(
            id=session_id,
            refresh_hash=presented_hash,
            ended_at__isnull=True,
            refresh_expires_at__gt=now,
        ).update(refresh_hash=new_hash, last_used_at=now, refresh_expires_at=refresh_expiry(now))
        if not rotated:
            await cls.end(session_id)
            return None
        return await cls.get_or_none(id=session_id)

    @classmethod
    async def end(cls, session_id: int) -> None:
        """End the session, unless it has ended already (the first end time stays)."""
        await cls.filter(id=session_id, ended_at__isnull=True).update(ended_at=timezone.now())

    @classmethod
    async def end_live(cls, session_id: int, user: "User") -> bool:
        """End one of the user's live sessions; False when it is not one (another
        user's, ended, revoked or expired)."""
        live = cls.all().live(user).filter(id=session_id)
        return bool(await live.update(ended_at=timezone.now()))

    @classmethod
    async def end_all(cls, user_id: int) -> None:
        await cls.filter(user_id=user_id, ended_at__isnull=True).update(ended_at=timezone.now())
