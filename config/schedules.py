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
)
