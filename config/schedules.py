"""Every periodic job, declared in one place with the reason for its interval.

`setup_schedules` (also run by `make run`) creates or updates these django-q2 schedules by name, so
running it again changes nothing. Each job means "process what is due as of now": safe when late,
repeated, or picked up by two clusters at once.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    minutes: int
    why: str
    # Optional cron expression (local time); when set it decides the run times and `minutes` only documents
    # the interval.
    cron: str = ""


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        name="plan",
        func="dunning.tasks.plan",
        minutes=15,
        why="New claims, ended pauses and changed segments reach the outbox within a quarter of an hour; "
        "the planner is idempotent, so running often costs only a scan of due claims.",
    ),
    ScheduleSpec(
        name="dispatch",
        func="dunning.tasks.dispatch",
        minutes=1,
        why="Planned messages leave within a minute of their send time; each run claims a bounded batch.",
    ),
    ScheduleSpec(
        name="dispatch_housekeeping",
        func="dunning.tasks.housekeeping",
        minutes=15,
        why="A send interrupted by a crash shows up as failed-for-review within half an hour (the staleness "
        "limit plus this interval) instead of waiting in SENDING unseen; cheap, two conditional updates.",
    ),
    ScheduleSpec(
        name="print_batch",
        func="dunning.tasks.print_batch",
        minutes=24 * 60,
        cron="30 6 * * 1-6",
        why="The print house collects one merged PDF and manifest per working day (Monday-Saturday, 06:30, "
        "before the first pickup); letters generated later wait for the next morning's batch.",
    ),
    ScheduleSpec(
        name="legal_housekeeping",
        func="dunning.tasks_legal.legal_housekeeping",
        minutes=60,
        why="Legal terms and instalments are counted in days, so hourly keeps every pause end, cost proposal and "
        "missed-instalment reminder within the day it falls due; each step is idempotent and set-based.",
    ),
    ScheduleSpec(
        name="purge",
        func="compliance.tasks.purge",
        minutes=24 * 60,
        why="Retention periods are counted in days and months, so once a day keeps every rule within a day of "
        "its period; the purge is set-based and idempotent, so a late or repeated run only finds less to do.",
    ),
)
