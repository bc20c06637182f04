"""Everything that happened to one claim, in time order: what a clerk needs to answer a phone call.

Messages (with the segment that chose them, tone, channel, status and the provider's delivery events),
payments, pauses (on the claim and on its debtor) and escalation proposals, merged into one list. A fixed
number of queries whatever the claim's history: one per kind of row, events prefetched.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from campaigns.models import StepKind
from dunning.models import Claim, DeliveryEvent, EscalationProposal, Message, Pause, Payment

# A claim's history is a handful of rows; the cap only protects the page from pathological data.
MAX_ROWS_PER_KIND = 500


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "issued", "due", "message", "payment", "pause", "proposal"
    title: str
    obj: Any = None
    details: list[tuple[str, str]] = field(default_factory=list)
    events: list[DeliveryEvent] = field(default_factory=list)


def _money(amount) -> str:
    # Formatted for the active language: "€ 1.234,50" in Dutch, "€ 1,234.50" in English.
    return f"€ {number_format(amount, 2, force_grouping=True)}"


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _message_entry(message: Message) -> TimelineEntry:
    at = message.sent_at or message.cancelled_at or message.scheduled_for
    details = [
        (_("status"), message.get_status_display()),
        (_("channel"), message.get_channel_display()),
        (_("tone"), message.get_tone_display()),
        (_("segment"), message.segment.name if message.segment else "-"),
        (_("scheduled for"), timezone.localtime(message.scheduled_for).strftime("%Y-%m-%d %H:%M")),
    ]
    if message.recipient:
        details.append((_("recipient"), message.recipient))
    if message.cancel_reason:
        details.append((_("cancel reason"), message.cancel_reason))
    if message.last_error:
        details.append((_("last error"), message.last_error))
    return TimelineEntry(
        at=at,
        kind="message",
        title=str(message.step.get_kind_display()),
        obj=message,
        details=details,
        events=list(message.events.all()),
    )


def _payment_entry(payment: Payment) -> TimelineEntry:
    details = [
        (_("amount"), _money(payment.amount)),
        (_("source"), payment.source),
        (_("match status"), payment.get_match_status_display()),
    ]
    if payment.reference_text:
        details.append((_("reference / remittance text"), payment.reference_text))
    return TimelineEntry(at=payment.paid_at, kind="payment", title=str(_("Payment")), obj=payment, details=details)


def _pause_entry(pause: Pause) -> TimelineEntry:
    scope = _("this claim") if pause.claim_id else _("all claims of the debtor")
    until = timezone.localtime(pause.ends_at).strftime("%Y-%m-%d %H:%M") if pause.ends_at else _("open-ended")
    details = [(_("reason"), pause.get_reason_display()), (_("applies to"), scope), (_("until"), until)]
    if pause.created_by:
        details.append((_("set by"), pause.created_by.get_username()))
    if pause.note:
        details.append((_("note"), pause.note))
    return TimelineEntry(at=pause.starts_at, kind="pause", title=str(_("Pause")), obj=pause, details=details)


def _proposal_entry(proposal: EscalationProposal) -> TimelineEntry:
    details = [
        (_("status"), proposal.get_status_display()),
        (_("proposed action"), proposal.action),
        (_("costs to be charged"), _money(proposal.proposed_costs)),
    ]
    if proposal.needs_second_approval:
        details.append((_("needs a second approver"), _("yes")))
    if proposal.decision_reason:
        details.append((_("reason for the decision"), proposal.decision_reason))
    title = str(_("Escalation proposal"))
    if proposal.step.kind != StepKind.ESCALATION:
        title = f"{title}: {proposal.step.get_kind_display()}"
    return TimelineEntry(
        at=proposal.created_at,
        kind="proposal",
        title=title,
        obj=proposal,
        details=details,
    )


def claim_timeline(*, claim: Claim) -> list[TimelineEntry]:
    """The claim's history, oldest first (ties keep the order issued, due, messages, payments, ...)."""
    entries = [
        TimelineEntry(at=_start_of(claim.issued_on), kind="issued", title=str(_("Claim issued"))),
        TimelineEntry(at=_start_of(claim.due_on), kind="due", title=str(_("Due date"))),
    ]
    messages = (
        Message.objects.filter(claim=claim)
        .select_related("step", "segment")
        .prefetch_related(Prefetch("events", queryset=DeliveryEvent.objects.order_by("occurred_at", "id")))
        .order_by("scheduled_for", "id")[:MAX_ROWS_PER_KIND]
    )
    entries += [_message_entry(message) for message in messages]
    payments = Payment.objects.filter(claim=claim).order_by("paid_at", "id")[:MAX_ROWS_PER_KIND]
    entries += [_payment_entry(payment) for payment in payments]
    pauses = (
        Pause.objects.filter(Q(claim=claim) | Q(debtor_id=claim.debtor_id))
        .select_related("created_by")
        .order_by("starts_at", "id")[:MAX_ROWS_PER_KIND]
    )
    entries += [_pause_entry(pause) for pause in pauses]
    proposals = (EscalationProposal.objects.filter(claim=claim).select_related("step").order_by("created_at", "id"))[
        :MAX_ROWS_PER_KIND
    ]
    entries += [_proposal_entry(proposal) for proposal in proposals]
    # sorted() is stable: entries at the same moment keep the order they were added in.
    return sorted(entries, key=lambda entry: entry.at)
