"""Idempotency keys: the answer to a POST, stored with its effect and replayed to a retry."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Self

import asyncpg
from tortoise import fields, timezone
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from app.core.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotAuthenticated,
    ServiceError,
)
from app.db.replicas import PRIMARY
from app.models.base import AppModel
from app.models.fields import utc_datetime
from app.models.user import User

# How long an answer is kept for replays (the contract's 24 hours).
KEPT_FOR = timedelta(hours=24)
# What the effect of a request answers: its status code and its JSON body.
Answer = tuple[int, bytes]


class IdempotencyKey(AppModel):
    # One row per user and key. The row is made to exist first (committed at once, like
    # `LoginFailure`), so that a duplicate can find it; the request's transaction then
    # locks it and stores the answer in the same transaction as the effect. A concurrent
    # duplicate finds the row locked (409); a later one finds the answer (replayed).

    id = fields.IntField(primary_key=True)
    # The user's id, deliberately not a foreign key: deleting an account then never waits
    # on a key row that an in-flight POST holds (that POST waits on the account's row:
    # a lock cycle). A deleted user's keys expire with the others; ids are never reused.
    user_id = fields.IntField()
    key = fields.CharField(max_length=255)
    # SHA-256 of the method, the path and the body: the same key for another request is 422.
    fingerprint = fields.CharField(max_length=64)
    status_code = fields.IntField(null=True)  # null until a request under it has answered
    body = fields.TextField(null=True)
    created_at = utc_datetime(auto_now_add=True)

    class Meta:
        table = "idempotency_keys"
        unique_together = (("user_id", "key"),)

    @classmethod
    async def answer_once(
        cls, user: User, key: str, fingerprint: str, run: Callable[[], Awaitable[Answer]]
    ) -> tuple[Answer, bool]:
        """The answer of `run()` under `key`, and whether it is a replay. `run()` is done
        at most once per key: a 2xx or a refusal (4xx) is stored in the transaction of
        its effect; anything else (a 5xx, an unreachable database) stores nothing, so
        the retry runs again. The key belongs to the request that first made its row:
        another request under it is 422, whichever of them gets to run first."""
        expired = timezone.now() - KEPT_FOR
        await cls.filter(user_id=user.id, key=key, created_at__lte=expired).delete()
        fresh = cls(user_id=user.id, key=key, fingerprint=fingerprint)
        await cls.bulk_create([fresh], ignore_conflicts=True)
        async with in_transaction(PRIMARY) as connection:
            claim = await cls._lock(user, key, fingerprint, connection)
            if claim.fingerprint != fingerprint:
                raise IdempotencyKeyReused
            if claim.status_code is not None:
                return (claim.status_code, (claim.body or "").encode()), True
            try:
                async with in_transaction(PRIMARY):  # a savepoint: a refusal undoes only the effect
                    status_code, body = await run()
            except ServiceError as refusal:
                status_code, body = refusal.status_code, refusal.body()
            # Kept for KEPT_FOR from the answer, however long ago the key was first sent.
            claim.status_code, claim.body, claim.created_at = (
                status_code,
                body.decode(),
                timezone.now(),
            )
            answered = ["status_code", "body", "created_at"]
            await claim.save(using_db=connection, update_fields=answered)
        return (status_code, body), False

    @classmethod
    async def _lock(cls, user: User, key: str, fingerprint: str, connection: object) -> Self:
        """The key's row, locked without waiting. The lock is taken in a savepoint: on
        PostgreSQL a lock that cannot be had fails only the savepoint, and the row (as the
        duplicate committed it) tells a different request (422) from the same (409)."""
        rows = cls.filter(user_id=user.id, key=key)
        try:
            async with in_transaction(PRIMARY):
                claim = await rows.select_for_update(nowait=True).using_db(connection).first()
        except (OperationalError, asyncpg.LockNotAvailableError) as exc:
            if not _lock_not_available(exc):
                raise
            other = await rows.first()
            if other is not None and other.fingerprint != fingerprint:
                raise IdempotencyKeyReused from None
            raise IdempotencyKeyInUse from None
        if claim is None:  # deleted since it was made to exist: with the account, or expired
            if not await User.exists(id=user.id):
                raise NotAuthenticated
            raise IdempotencyKeyInUse
        return claim

    @classmethod
    async def purge_expired(cls) -> int:
        """Delete the keys older than `KEPT_FOR`; how many were deleted."""
        return await cls.filter(created_at__lte=timezone.now() - KEPT_FOR).delete()


def _lock_not_available(exc: BaseException) -> bool:
    return isinstance(exc, asyncpg.LockNotAvailableError) or isinstance(
        exc.__cause__, asyncpg.LockNotAvailableError
    )
