"""django-q2 entry points: thin wrappers that take a time and call a service.

Each acts as the system user (the audit trail's actor) and returns a small dict that django-q2 stores
as the task result, so the admin's task list shows what a run did.
"""

from __future__ import annotations

from datetime import datetime

from auditlog.context import set_actor
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.actors import system_user


def _moment(now: str | datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if isinstance(now, datetime):
        return now
    parsed = parse_datetime(now)
    if parsed is None:
        raise ValueError(f"not an ISO 8601 moment: {now!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def plan(now: str | datetime | None = None) -> dict:
    from dunning.services.planning import plan as plan_messages

    with set_actor(system_user()):
        return plan_messages(now=_moment(now)).as_dict()


def dispatch(now: str | datetime | None = None, batch_size: int | None = None) -> dict:
    from dunning.services.dispatch import dispatch as dispatch_messages

    with set_actor(system_user()):
        return dispatch_messages(now=_moment(now), batch_size=batch_size).as_dict()


def print_batch(now: str | datetime | None = None) -> dict:
    from dunning.channels.letters import print_batch_create

    with set_actor(system_user()):
        batch = print_batch_create(now=_moment(now))
    return {"batch": batch.name, "letters": batch.letters} if batch else {"batch": None, "letters": 0}


def housekeeping(now: str | datetime | None = None) -> dict:
    """Between dispatch runs too: interrupted sends become failed-for-review, orphaned bundles go alone."""
    from dunning.services.dispatch import bundles_release, messages_fail_stale

    with set_actor(system_user()):
        return {"stale_failed": messages_fail_stale(now=_moment(now)), "bundles_released": bundles_release()}
