"""Payment arrangements (betalingsregelingen): instalments instead of reminders.

- `arrangement_create` agrees a plan for one or more open claims of one debtor, splits the total into
  instalments and pauses dunning on those claims (reason ARRANGEMENT).
- `arrangements_refresh` (daily job) recomputes every open arrangement from the claims' payments: money
  received since the arrangement started is applied to instalments in due order. It does not hook into
  payment recording, so the payments code needs to know nothing about arrangements.
- An instalment unpaid GRACE_DAYS after its due date is missed: the debtor gets one friendly reminder for
  it (an InstalmentReminder, sent by e-mail or SMS; letters are left for the clerk to print).
- Two missed instalments put the arrangement in "cancelled_pending_confirmation": a person decides.
  `arrangement_cancel_confirm` cancels it and resumes dunning (the pause ends, the schedule shifts so
  nothing arrives in a burst); `arrangement_keep` gives the debtor another chance.
- When everything is paid (or every claim settled) the arrangement completes and its pauses end.
"""

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from config.actors import actor_context
from customers.models import Channel
from dunning.models import ZERO, Claim, Instalment, InstalmentReminder, Pause, Payment, PaymentArrangement
from dunning.services.pauses import pause_end, pause_start

logger = logging.getLogger(__name__)

GRACE_DAYS = 3
MISSES_BEFORE_CANCELLATION = 2
KEEP_NEW_TERM_DAYS = 14


class ArrangementError(ValueError):
    pass


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def instalment_amounts(total: Decimal, count: int) -> list[Decimal]:
    """`count` equal instalments in whole cents; the last one takes the rounding remainder."""
    each = (total / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [each] * (count - 1) + [total - each * (count - 1)]


def arrangement_create(
    *,
    claims: list[Claim],
    count: int,
    first_due_on: date,
    total: Decimal | None = None,
    note: str = "",
    actor=None,
    now: datetime | None = None,
) -> PaymentArrangement:
    """Agree `count` monthly instalments from `first_due_on` for `claims` (one debtor, all open)."""
    now = now or timezone.now()
    if not claims:
        raise ArrangementError("An arrangement needs at least one claim.")
    if count < 1:
        raise ArrangementError("An arrangement needs at least one instalment.")
    debtors = {c.debtor_id for c in claims}
    if len(debtors) != 1:
        raise ArrangementError("All claims of an arrangement belong to one debtor.")
    if any(not c.is_open for c in claims):
        raise ArrangementError("Only open claims can be part of an arrangement.")
    if PaymentArrangement.objects.filter(
        claims__in=claims, status__in=(PaymentArrangement.Status.ACTIVE, PaymentArrangement.Status.PENDING_CANCELLATION)
    ).exists():
        raise ArrangementError("One of these claims already has an open arrangement.")
    total = total if total is not None else sum((c.total_due for c in claims), ZERO)
    if total <= 0:
        raise ArrangementError("Nothing is open on these claims.")
    with transaction.atomic(), actor_context(actor):
        arrangement = PaymentArrangement.objects.create(
            debtor_id=claims[0].debtor_id,
            total=total,
            starts_on=timezone.localdate(now),
            note=note,
            created_by=actor,
            created_at=now,
        )
        arrangement.claims.set(claims)
        Instalment.objects.bulk_create(
            Instalment(arrangement=arrangement, number=n, due_on=add_months(first_due_on, n - 1), amount=amount)
            for n, amount in enumerate(instalment_amounts(total, count), start=1)
        )
        for claim in claims:
            pause_start(
                claim=claim,
                reason=Pause.Reason.ARRANGEMENT,
                starts_at=now,
                note=f"Payment arrangement {arrangement.pk}",
                actor=actor,
                now=now,
                arrangement=arrangement,
            )
    return arrangement


def _paid_towards(arrangement: PaymentArrangement) -> Decimal:
    """Money received on the arrangement's claims since it started (refunds excluded)."""
    start = timezone.make_aware(datetime.combine(arrangement.starts_on, datetime.min.time()))
    sums = Payment.objects.filter(claim__in=arrangement.claims.all(), paid_at__gte=start).aggregate(
        paid=Sum("amount"), refunded=Sum("refund_amount")
    )
    return (sums["paid"] or ZERO) - (sums["refunded"] or ZERO)


@dataclass
class RefreshResult:
    missed: int = 0
    reminders: int = 0
    pending_cancellation: int = 0
    completed: int = 0


def _end_pauses(arrangement: PaymentArrangement, *, actor, now: datetime) -> None:
    for pause in arrangement.pauses.filter(Pause.active_q(now)):
        pause_end(pause=pause, ends_at=now, actor=actor, now=now)


def arrangement_refresh(*, arrangement: PaymentArrangement, now: datetime, result: RefreshResult | None = None):
    """Recompute instalments from payments; remind per newly missed instalment; escalate after two misses."""
    result = result or RefreshResult()
    today = timezone.localdate(now)
    with transaction.atomic():
        arrangement = PaymentArrangement.objects.select_for_update().get(pk=arrangement.pk)
        if not arrangement.is_open:
            return result
        available = _paid_towards(arrangement)
        newly_missed: list[Instalment] = []
        for instalment in arrangement.instalments.order_by("due_on", "number"):
            applied = min(available, instalment.amount)
            available -= applied
            instalment.paid_amount = applied
            if applied >= instalment.amount:
                instalment.status = Instalment.Status.PAID
            elif instalment.due_on + timedelta(days=GRACE_DAYS) < today:
                if instalment.missed_at is None:
                    instalment.missed_at = now
                    newly_missed.append(instalment)
                instalment.status = Instalment.Status.MISSED
            else:
                instalment.status = Instalment.Status.OPEN
            instalment.save(update_fields=["paid_amount", "status", "missed_at"])
        instalments = list(arrangement.instalments.all())
        result.missed += len(newly_missed)
        all_paid = all(i.status == Instalment.Status.PAID for i in instalments)
        nothing_open = not arrangement.claims.filter(status=Claim.Status.OPEN).exists()
        if all_paid or nothing_open:
            arrangement.status = PaymentArrangement.Status.COMPLETED
            arrangement.closed_at = now
            arrangement.save(update_fields=["status", "closed_at"])
            _end_pauses(arrangement, actor=None, now=now)
            result.completed += 1
            return result
        missed_now = sum(1 for i in instalments if i.status == Instalment.Status.MISSED)
        if arrangement.status == PaymentArrangement.Status.ACTIVE and missed_now >= MISSES_BEFORE_CANCELLATION:
            arrangement.status = PaymentArrangement.Status.PENDING_CANCELLATION
            arrangement.pending_since = now
            arrangement.save(update_fields=["status", "pending_since"])
            result.pending_cancellation += 1
        reminders = [_reminder_plan(instalment=i, arrangement=arrangement, now=now) for i in newly_missed]
    for reminder in filter(None, reminders):
        result.reminders += int(reminder_send(reminder=reminder, now=now))
    return result


def arrangements_refresh(*, now: datetime) -> RefreshResult:
    result = RefreshResult()
    open_ids = PaymentArrangement.objects.filter(
        status__in=(PaymentArrangement.Status.ACTIVE, PaymentArrangement.Status.PENDING_CANCELLATION)
    ).values_list("pk", flat=True)
    for pk in list(open_ids):
        try:
            arrangement_refresh(arrangement=PaymentArrangement(pk=pk), now=now, result=result)
        except Exception:  # one bad arrangement must not stop the others
            logger.exception("arrangement %s could not be refreshed", pk)
    return result


def arrangement_cancel_confirm(*, arrangement: PaymentArrangement, actor, now: datetime | None = None):
    """A person confirms the cancellation: the arrangement ends and dunning resumes (without a burst)."""
    now = now or timezone.now()
    if actor is None:
        raise ArrangementError("A person must confirm the cancellation.")
    with transaction.atomic(), actor_context(actor):
        arrangement = PaymentArrangement.objects.select_for_update().get(pk=arrangement.pk)
        if arrangement.status != PaymentArrangement.Status.PENDING_CANCELLATION:
            raise ArrangementError("Only an arrangement waiting for confirmation can be cancelled this way.")
        arrangement.status = PaymentArrangement.Status.CANCELLED
        arrangement.closed_at = now
        arrangement.closed_by = actor
        arrangement.save(update_fields=["status", "closed_at", "closed_by"])
        _end_pauses(arrangement, actor=actor, now=now)
    return arrangement


def arrangement_keep(*, arrangement: PaymentArrangement, actor, note: str = "", now: datetime | None = None):
    """A person decides the arrangement continues despite the missed instalments."""
    now = now or timezone.now()
    with transaction.atomic(), actor_context(actor):
        arrangement = PaymentArrangement.objects.select_for_update().get(pk=arrangement.pk)
        if arrangement.status != PaymentArrangement.Status.PENDING_CANCELLATION:
            raise ArrangementError("This arrangement is not waiting for a decision.")
        arrangement.status = PaymentArrangement.Status.ACTIVE
        arrangement.pending_since = None
        if note:
            arrangement.note = "\n".join(filter(None, [arrangement.note, f"{now:%Y-%m-%d}: {note}"]))
        # The missed instalments get a fresh due date; only new misses count towards a next cancellation.
        arrangement.instalments.filter(status=Instalment.Status.MISSED).update(
            due_on=timezone.localdate(now) + timedelta(days=KEEP_NEW_TERM_DAYS), status=Instalment.Status.OPEN
        )
        arrangement.save(update_fields=["status", "pending_since", "note"])
    return arrangement


REMINDER_TEXT = {
    "nl": (
        "Herinnering: termijn {number} van uw betalingsregeling",
        "Beste {name},\n\nWe hebben termijn {number} van uw betalingsregeling nog niet (helemaal) ontvangen. "
        "Het gaat om {remaining} euro, te betalen op {due}. Wilt u dit bedrag zo snel mogelijk overmaken? "
        "Lukt dat niet, neem dan contact met ons op: samen zoeken we een oplossing.\n\n"
        "Let op: als twee termijnen niet betaald worden, kan de regeling stoppen.\n\n{municipality}",
    ),
    "en": (
        "Reminder: instalment {number} of your payment arrangement",
        "Dear {name},\n\nWe have not (fully) received instalment {number} of your payment arrangement: "
        "{remaining} euro, due on {due}. Please pay it as soon as you can. If you cannot, please contact "
        "us and we will look for a solution together.\n\n"
        "Please note: if two instalments are not paid, the arrangement may end.\n\n{municipality}",
    ),
}


def _reminder_channel(debtor) -> str:
    preference = getattr(debtor, "channel_preference", None)
    for channel in (Channel.EMAIL, Channel.SMS):
        if debtor.has_valid_contact(channel) and not (preference and preference.is_opted_out(channel)):
            return channel
    return Channel.LETTER


def _reminder_plan(*, instalment: Instalment, arrangement: PaymentArrangement, now: datetime):
    from django.conf import settings

    debtor = arrangement.debtor
    language = debtor.language if debtor.language in REMINDER_TEXT else "nl"
    subject, body = REMINDER_TEXT[language]
    values = {
        "number": instalment.number,
        "name": debtor.display_name,
        "remaining": f"{instalment.remaining:.2f}".replace(".", "," if language == "nl" else "."),
        "due": instalment.due_on.strftime("%d-%m-%Y"),
        "municipality": settings.MUNICIPALITY["name"],
    }
    channel = _reminder_channel(debtor)
    recipient = {Channel.EMAIL: debtor.email, Channel.SMS: debtor.phone}.get(channel, "")
    try:
        with transaction.atomic():
            return InstalmentReminder.objects.create(
                instalment=instalment,
                channel=channel,
                language=language,
                recipient=recipient,
                subject=subject.format(**values),
                body=body.format(**values),
                created_at=now,
            )
    except IntegrityError:  # already reminded for this instalment
        return None


def reminder_send(*, reminder: InstalmentReminder, now: datetime) -> bool:
    """Send one planned reminder (row written before, updated after). Letters wait for the clerk."""
    if reminder.status != InstalmentReminder.Status.PLANNED or reminder.channel == Channel.LETTER:
        return False
    try:
        if reminder.channel == Channel.EMAIL:
            EmailMessage(subject=reminder.subject, body=reminder.body, to=[reminder.recipient]).send()
        else:
            from dunning.channels.sms import get_sms_backend

            get_sms_backend().send(to=reminder.recipient, body=reminder.body, reference=f"instalment-{reminder.pk}")
    except Exception as exc:  # recorded on the row; the clerk sees it on the arrangement
        reminder.status = InstalmentReminder.Status.FAILED
        reminder.last_error = str(exc)[:1000]
        reminder.save(update_fields=["status", "last_error"])
        return False
    reminder.status = InstalmentReminder.Status.SENT
    reminder.sent_at = now
    reminder.save(update_fields=["status", "sent_at"])
    return True
