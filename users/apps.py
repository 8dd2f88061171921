from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Registers the token scheme with drf-spectacular (extensions register on import).
        from users import schema  # noqa: F401
