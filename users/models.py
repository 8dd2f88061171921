import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """The account model; custom from the first migration so fields can be added later."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="users_user_email_ci_unique",
                # Shown by ModelForms (profile, admin) that validate constraints before saving.
                violation_error_code="unique_email",
                violation_error_message="A user with that email address already exists.",
            ),
        ]


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 hash is stored, the value is shown once at creation."""

    PREFIX_LENGTH = 8
    NAME_MAX_LENGTH = 100

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    prefix = models.CharField(
        max_length=PREFIX_LENGTH, help_text="First characters of the token, to tell tokens apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="users_apitoken_active_name_unique",
                violation_error_code="unique_name",
                violation_error_message="You already have an active token with that name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(raw_token: str) -> str:
        # A fast hash is enough: the token carries 256 bits of entropy, so there is nothing to brute-force.
        return hashlib.sha256(raw_token.encode()).hexdigest()
