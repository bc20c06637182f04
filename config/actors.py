"""The named system user that acts inside tasks and commands (the audit trail's actor when no person acts)."""

import contextlib

from auditlog.context import auditlog_value, set_actor
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


@contextlib.contextmanager
def actor_context(actor):
    """Name `actor` in the audit trail for the block, then give back whatever context was there.

    auditlog's `set_actor` leaves its value behind when it exits (it only disconnects its receiver).
    Nested naively, that stale value makes the outer block disconnect the inner receiver twice and
    leak its own, so the previous context is put back explicitly. With `actor=None` the block keeps
    whatever actor a request (auditlog middleware) or a job already named.
    """
    if actor is None:
        yield
        return
    previous = auditlog_value.get(None)
    try:
        with set_actor(actor):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)
