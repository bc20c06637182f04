"""Create or update the django-q2 schedules declared in config/schedules.py (idempotent).

Catch-up safety: Q_CLUSTER["catch_up"] is False, so a cluster that was down runs a missed schedule once,
not once per missed interval. On top of that, each schedule
- keeps its `next_run` when it already exists (re-running this command never shifts or triggers runs);
- gets a task timeout below the cluster's `retry` (a slow run is never handed to a second worker while
  the first is still busy) and a group named after the schedule (results are easy to find);
- repeats forever (-1).
Schedules of ours that are no longer declared are removed; schedules created by hand are left alone.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from config.schedules import SCHEDULES

MANAGED_PREFIXES = ("dunning.tasks.", "compliance.tasks.")


def _q_options(name: str) -> dict:
    timeout = min(settings.Q_CLUSTER.get("timeout", 300), settings.Q_CLUSTER.get("retry", 360) - 30)
    return {"q_options": {"timeout": timeout, "group": name, "ack_failure": True}}


def schedules_setup() -> dict[str, str]:
    """Apply config/schedules.py; returns name -> created / updated / unchanged / removed."""
    outcome: dict[str, str] = {}
    with transaction.atomic():
        for spec in SCHEDULES:
            wanted = {
                "func": spec.func,
                "schedule_type": Schedule.CRON if spec.cron else Schedule.MINUTES,
                "minutes": None if spec.cron else spec.minutes,
                "cron": spec.cron or None,
                "repeats": -1,
                "kwargs": repr(_q_options(spec.name)),
            }
            existing = Schedule.objects.filter(name=spec.name).order_by("pk")
            schedule = existing.first()
            if schedule is None:
                schedule = Schedule(name=spec.name, **wanted)
                # A cron schedule waits for its first slot; an interval schedule starts on the next tick.
                schedule.next_run = schedule.calculate_next_run(timezone.now()) if spec.cron else timezone.now()
                schedule.save()
                outcome[spec.name] = "created"
                continue
            existing.exclude(pk=schedule.pk).delete()  # duplicates by name (hand-made) would run twice
            changed = {key: value for key, value in wanted.items() if getattr(schedule, key) != value}
            if changed:
                for key, value in changed.items():
                    setattr(schedule, key, value)
                if {"cron", "schedule_type", "minutes"} & set(changed):  # a new rhythm: next slot from now
                    schedule.next_run = schedule.calculate_next_run(timezone.now()) if spec.cron else timezone.now()
                schedule.save()
                outcome[spec.name] = "updated"
            else:
                outcome[spec.name] = "unchanged"
        declared = {spec.name for spec in SCHEDULES}
        for schedule in Schedule.objects.exclude(name__in=declared):
            if schedule.func.startswith(MANAGED_PREFIXES):
                outcome[schedule.name or str(schedule.pk)] = "removed"
                schedule.delete()
    return outcome


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules declared in config/schedules.py (idempotent)."

    def handle(self, *args, **options):
        specs = {spec.name: spec for spec in SCHEDULES}
        for name, what in schedules_setup().items():
            spec = specs.get(name)
            rhythm = (spec.cron or f"every {spec.minutes} min") if spec else ""
            self.stdout.write(f"{what} {name} {rhythm}".rstrip())
