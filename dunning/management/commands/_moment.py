"""`--now ISO8601` for the engine's commands: run a job as of a given moment."""

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def add_now_argument(parser) -> None:
    parser.add_argument("--now", default=None, help="Run as of this moment (ISO 8601, local time if no offset).")


def moment_from(value: str | None) -> datetime:
    if not value:
        return timezone.now()
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--now {value!r} is not an ISO 8601 date-time, e.g. 2026-04-28T09:00:00+02:00")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
