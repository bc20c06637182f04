"""django-q2 entry point for the legal housekeeping (the engine's tasks live in dunning/tasks.py)."""

from datetime import datetime

from auditlog.context import set_actor
from django.utils import timezone

from config.actors import system_user
from dunning.services.arrangements import arrangements_refresh
from dunning.services.costs import cost_proposals_create, legal_notices_record_sent
from dunning.services.pauses import pauses_halt_started, pauses_resume_ended


def legal_housekeeping(now: datetime | None = None) -> dict[str, int]:
    """1. Pauses that began since they were set halt their claims; pauses whose end passed resume.
    2. Sent legal notices get their evidence (receipt, term end, stated costs).
    3. Notices whose term passed unpaid become cost proposals for the approval queue.
    4. Payment arrangements are recomputed from payments; missed instalments get a reminder.
    """
    now = now or timezone.now()
    with set_actor(system_user()):
        arrangements = arrangements_refresh(now=now)
        return {
            "pauses_halted": pauses_halt_started(now=now),
            "pauses_resumed": pauses_resume_ended(now=now),
            "notices_recorded": legal_notices_record_sent(now=now),
            "cost_proposals": cost_proposals_create(now=now),
            "instalments_missed": arrangements.missed,
            "instalment_reminders": arrangements.reminders,
            "arrangements_pending_cancellation": arrangements.pending_cancellation,
            "arrangements_completed": arrangements.completed,
        }
