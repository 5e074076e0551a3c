"""The service's `users` and `items` tables as unmanaged models (the schema is the
service's migrations'; Django neither creates nor alters it), column for column."""

from django.db import models


class User(models.Model):
    id = models.AutoField(primary_key=True)
    email = models.EmailField(max_length=255, unique=True)
    username = models.CharField(max_length=50, unique=True, null=True, blank=True)
    username_lower = models.CharField(max_length=50, unique=True, null=True, blank=True)
    hashed_password = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    is_superuser = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.IntegerField(default=1)
    # Bumped by the service on a password change or deactivation: older tokens are revoked.
    token_version = models.IntegerField(default=0)

    # What DRF's IsAuthenticated asks of `request.user` (not a django.contrib.auth user).
    is_authenticated = True

    class Meta:
        managed = False
        db_table = "users"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email


class Item(models.Model):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255, db_index=True)
    description = models.TextField(null=True, blank=True)
    # The table's foreign key cascades on delete itself (inspectdb's DO_NOTHING).
    owner = models.ForeignKey(User, models.DO_NOTHING, related_name="items")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.IntegerField(default=1)

    class Meta:
        managed = False
        db_table = "items"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
