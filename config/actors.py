"""The named system user that acts inside tasks and commands (the audit trail's actor when no person acts)."""

from django.conf import settings
from django.contrib.auth import get_user_model


def system_user():
    """The inactive user `settings.SYSTEM_USERNAME`, created on first use; it can never log in."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=settings.SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "Systeem", "last_name": "(taken)"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
