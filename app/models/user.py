"""The `users` table, with the seed's column names."""

from collections.abc import Collection, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Self

from tortoise import BaseDBAsyncClient, fields
from tortoise.exceptions import IntegrityError
from tortoise.query_utils import Prefetch
from tortoise.transactions import in_transaction

from app.core.emails import email_search_text, normalize_email
from app.core.errors import EmailTaken, Forbidden, NotAuthenticated, UsernameTaken, UserNotFound
from app.db.replicas import PRIMARY
from app.db.tortoise_ext.lookups import first_compiled
from app.models.base import AppModel, PagedQuerySet, PageOf, Window, manager_for
from app.models.fields import utc_datetime
from app.models.row_count import RowCount
from app.models.versioned import Versioned

if TYPE_CHECKING:
    from app.models.item import Item
    from app.models.session import Session

# `include=items` embeds at most this many items per user, lowest ids first.
EMBEDDED_ITEMS_PER_USER = 100


class UserQuerySet(PagedQuerySet["User"]):
    def matching(self, email: str | None = None, is_active: bool | None = None) -> Self:
        """Users whose email contains `email` (normalised like a stored one), and whose
        `is_active` is as given; no condition for None."""
        if not email and is_active is None and not self._q_objects:
            return self.counted_by(partial(RowCount.of, "users"))  # every user: kept count
        users = self.filter(email__contains=email_search_text(email)) if email else self
        return users if is_active is None else users.filter(is_active=is_active)

    async def page_with_items(self, window: Window) -> PageOf["User"]:
        """`page`, each user with their first items (see `with_items`)."""
        return await self.fetch_page(window, self.page_of(window).with_items)

    async def first_with_items(self) -> "User | None":
        """The first user, with their first items (see `with_items`)."""
        users = await self.limit(1).with_items()
        return users[0] if users else None

    async def with_items(self) -> list["User"]:
        """These users (the queryset must be limited), each with their first
        `EMBEDDED_ITEMS_PER_USER` items, lowest ids first, in `user.items`.

        One `prefetch_related` query loads the items of all the users, lowest ids first,
        with room for every user's share; when it comes back full, some user may have been
        cut short by others, and a second query takes each user's first items exactly.
        One user's first items are the first ones of the query, whatever its size.
        """
        from app.models.item import Item

        if self._limit is None:
            raise TypeError("limit the users first: each one's items are capped")
        room = EMBEDDED_ITEMS_PER_USER * self._limit
        first_items = Prefetch("items", queryset=Item.all().order_by("id").limit(room))
        users = await self.prefetch_related(first_items)
        cut_short = sum(len(user.items.related_objects) for user in users) == room
        if cut_short and len(users) > 1:  # one user's share is exactly the first ones
            exact = await Item.all().first_of_each_owner(
                [user.id for user in users], EMBEDDED_ITEMS_PER_USER
            )
            for user in users:
                user.items.related_objects = [item for item in exact if item.owner_id == user.id]
        for user in users:
            del user.items.related_objects[EMBEDDED_ITEMS_PER_USER:]
        return users


class User(Versioned, AppModel):
    # Emails are stored normalised (app/core/emails.py). Usernames keep their case but are
    # unique case-insensitively through the `username_lower` shadow column.

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=255, unique=True)
    username = fields.CharField(max_length=50, unique=True, null=True)
    username_lower = fields.CharField(max_length=50, unique=True, null=True)
    hashed_password = fields.CharField(max_length=255)
    is_active = fields.BooleanField(default=True)
    is_superuser = fields.BooleanField(default=False)
    # Whether the owner confirmed `email` (POST /auth/verify); a new email is unconfirmed.
    is_verified = fields.BooleanField(default=False, db_default=False)
    created_at = utc_datetime(auto_now_add=True)
    updated_at = utc_datetime(auto_now=True)
    # Bumped by every change, in the same UPDATE that checks it: the ETag / If-Match value.
    version = fields.IntField(default=1, db_default=1)
    # Bumped when a password changes or the account is deactivated: older tokens stop working.
    token_version = fields.IntField(default=0, db_default=0)

    items: fields.ReverseRelation["Item"]
    sessions: fields.ReverseRelation["Session"]

    # What only a superuser may change, even on their own account.
    FLAGS = frozenset({"is_active", "is_superuser"})

    class Meta:
        table = "users"
        ordering = ["id"]
        # Keyset pages (cursors) by creation time; email and username have unique indexes.
        indexes = (("created_at", "id"),)
        manager = manager_for(UserQuerySet)

    def __str__(self) -> str:
        return self.email

    async def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep the case-folded username in step with `username` on every write."""
        self.username_lower = self.username.lower() if self.username else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = [*update_fields, "username_lower"]
        await super().save(*args, **kwargs)

    def may_change(self, owner_id: int, fields: Collection[str] = ()) -> bool:
        """Whether this user may change what `owner_id` owns, or these `fields` of that
        user's account: themself or a superuser, and the flags by a superuser only."""
        return self.is_superuser or (self.id == owner_id and not self.FLAGS & set(fields))

    @classmethod
    async def sign_up(
        cls,
        email: str,
        username: str | None,
        hashed_password: str,
        items: Sequence[dict[str, Any]] = (),
    ) -> Self:
        """Create the account, its first items and the mail of its verification token in
        one transaction: all or nothing (a rolled-back sign-up mails nothing)."""
        from app.core.mail_templates import VERIFY
        from app.models.account_token import AccountToken
        from app.models.item import Item

        try:
            async with in_transaction(PRIMARY) as connection:
                user = await cls.create(
                    email=email,
                    username=username,
                    hashed_password=hashed_password,
                    using_db=connection,
                )
                await AccountToken.mail_to(user, VERIFY, connection)
                if items:
                    await Item.bulk_create(
                        [Item(owner_id=user.id, **item) for item in items], using_db=connection
                    )
        except IntegrityError:
            # Lost a race with a concurrent sign-up: the constraint held, report which one.
            raise (await cls.conflict(email, username) or EmailTaken()) from None
        return user

    @classmethod
    async def change(
        cls, user_id: int, changes: dict[str, Any], if_version: set[int] | None, by: Self
    ) -> Self:
        """Apply `changes` to the account `user_id` as `by`, on locked rows: the caller's
        rights (403), the account (404), its version (412), then the unique email and
        username (400). A new password or a deactivation revokes the account's tokens."""
        email, username = changes.get("email"), changes.get("username")
        try:
            async with in_transaction(PRIMARY) as connection:
                caller, users = await cls.lock_acting(by, user_id, using_db=connection)
                if (user := users.get(user_id)) is None:
                    raise UserNotFound
                if not caller.may_change(user_id, changes):
                    raise Forbidden
                user.check_version(if_version)
                if conflict := await cls.conflict(email, username, exclude_id=user_id):
                    raise conflict
                # Only the changed columns: a concurrent change to others must survive.
                await user.apply_changes(changes, if_version, connection)
        except IntegrityError:  # a concurrent change took the email or username first
            raise (await cls.conflict(email, username, user_id) or EmailTaken()) from None
        return user

    @classmethod
    async def remove(cls, user_id: int, if_version: set[int] | None, by: Self) -> None:
        """Delete the account `user_id` and its items as `by`, checked on locked rows."""
        async with in_transaction(PRIMARY) as connection:
            caller, users = await cls.lock_acting(by, user_id, using_db=connection)
            if (user := users.get(user_id)) is None:
                raise UserNotFound
            if not caller.may_change(user_id):
                raise Forbidden
            await user.delete_checked(if_version, connection)

    @classmethod
    async def lock_acting(
        cls, caller: Self, *others: int, using_db: BaseDBAsyncClient
    ) -> tuple[Self, dict[int, Self]]:
        """Lock the caller's row and these users' rows inside `using_db`'s transaction, and
        check the caller is still the active user their token was issued to (401 if not);
        answer the locked caller and the locked users by id.

        The caller's rights are read from the locked row, so a concurrent demotion,
        deactivation or deletion waits for this write or wins before it, never in between.
        Rows are locked in one statement by ascending id, users before items: the one
        lock order of the service, so two writes never wait on each other in a cycle.
        """
        locked = cls.filter(id__in={caller.id, *others}).order_by("id").select_for_update()
        rows = {user.id: user for user in await locked.using_db(using_db)}
        acting = rows.get(caller.id)
        if acting is None or not acting.is_active or acting.token_version != caller.token_version:
            raise NotAuthenticated
        return acting, rows

    async def apply_changes(
        self,
        changes: dict[str, Any],
        if_version: set[int] | None = None,
        using_db: BaseDBAsyncClient | None = None,
    ) -> Self:
        """As `Versioned.apply_changes`, keeping `username_lower` in step, revoking every
        token issued before a password change or a deactivation, and marking a new email
        unverified."""
        changes = dict(changes)
        if changes.get("email", self.email) != self.email:
            changes["is_verified"] = False
        if "username" in changes:
            username = changes["username"]
            changes["username_lower"] = username.lower() if username else None
        if "hashed_password" in changes or (changes.get("is_active") is False and self.is_active):
            changes["token_version"] = self.token_version + 1
        return await super().apply_changes(changes, if_version, using_db)

    async def delete_checked(
        self, if_version: set[int] | None = None, using_db: BaseDBAsyncClient | None = None
    ) -> None:
        """Delete the account and its items. The items are locked first, by ascending id
        (the lock order a transfer uses), rather than in whatever order the cascade of
        the foreign key would visit them; no item can be added meanwhile, since that
        needs this user's row, which the caller has locked (`lock_acting`)."""
        from app.models.item import Item

        self.check_version(if_version)
        own_items = Item.filter(owner_id=self.id).using_db(using_db)
        # `.only()`, not `.values()`: Tortoise 1.1 drops FOR UPDATE from `.values()` queries.
        await own_items.order_by("id").select_for_update().only("id")
        await own_items.delete()
        await super().delete_checked(if_version, using_db)

    @classmethod
    async def create_or_promote_superuser(
        cls, email: str, hashed_password: str | None
    ) -> tuple[Self | None, str]:
        """Django's `create_superuser`, or the promotion of the account that has `email`
        (reactivated too, so that it can sign in), in one transaction. Returns the user
        and what was done: "created", "promoted", "reactivated" or "unchanged"; (None,
        "missing") when there is no account and no password to create one.

        The INSERT runs in a savepoint (a nested `in_transaction(PRIMARY)`): when a concurrent
        sign-up of the same email wins the unique constraint, only the INSERT is rolled
        back, and the account that won is promoted in the same transaction.
        """
        async with in_transaction(PRIMARY) as connection:
            existing = cls.filter(email=email).select_for_update().using_db(connection)
            user = await existing.first()
            if user is None and hashed_password is not None:
                try:
                    async with in_transaction(PRIMARY):  # the savepoint
                        created = await cls.create(
                            email=email,
                            hashed_password=hashed_password,
                            is_superuser=True,
                            is_verified=True,
                            using_db=connection,
                        )
                    return created, "created"
                except IntegrityError:
                    user = await existing.first()  # the concurrent one, now committed
            if user is None:
                return None, "missing"
            if user.is_superuser and user.is_active and user.is_verified:
                return user, "unchanged"
            done = "promoted" if user.is_active else "reactivated"
            promoted = {"is_superuser": True, "is_active": True, "is_verified": True}
            await user.apply_changes(promoted, None, connection)
            return user, done

    @classmethod
    async def conflict(
        cls, email: str | None, username: str | None, exclude_id: int | None = None
    ) -> EmailTaken | UsernameTaken | None:
        """The contract's error when `email` or `username` is taken by another account.

        A check before writing gives the message; the unique constraints stay the guard
        against races, and this is asked again when one of them fires.
        """
        others = cls.exclude(id=exclude_id) if exclude_id is not None else cls.all()
        if email is not None and await others.filter(email=email).exists():
            return EmailTaken()
        if username is not None and await others.filter(username_lower=username.lower()).exists():
            return UsernameTaken()
        return None

    @classmethod
    async def at_token_version(cls, user_id: int, token_version: int) -> Self | None:
        """The active user, unless their tokens were revoked since (a newer
        `token_version`)."""
        return await cls.get_or_none(id=user_id, is_active=True, token_version=token_version)

    @classmethod
    async def by_token(cls, user_id: int, token_version: int, session_id: int) -> Self | None:
        """The active user a token names, unless the token was revoked since: a newer
        `token_version`, or its session ended. One query: the user joined with the
        session (`Session.live` is the same rule for listing)."""
        return await first_compiled(
            "User.by_token", cls._choose_db(), cls._by_token, user_id, token_version, session_id
        )

    @classmethod
    def _by_token(cls, user_id: int, token_version: int, session_id: int) -> UserQuerySet:
        return cls.filter(
            id=user_id,
            is_active=True,
            token_version=token_version,
            sessions__id=session_id,
            sessions__ended_at__isnull=True,
            sessions__token_version=token_version,
        )

    @classmethod
    async def by_login(cls, login: str) -> Self | None:
        """Find the account a login name refers to: an email (normalised as at sign-up),
        or else a username."""
        if "@" in login:
            try:
                field, value = "email", normalize_email(login)
            except ValueError:
                return None  # not an address any account could have
        else:
            field, value = "username_lower", login.lower()
        if "\x00" in value or len(value) > cls._meta.fields_map[field].max_length:
            return None  # no account has such a name (and the database would refuse it)
        return await cls.get_or_none(**{field: value})
