"""The dispatcher: due planned messages leave through their channel, exactly once.

`dispatch(now=..., batch_size=...)` is what the "dispatch" schedule and `manage.py dunning_dispatch` run.

1. Housekeeping: a message left SENDING for longer than DISPATCH_STALE_SENDING_MINUTES was interrupted
   between claiming and recording (crash, kill, lost connection). We cannot know whether the provider got
   it, so it is NOT re-sent: it becomes FAILED with last_error "interrupted while sending", visible to
   clerks, who check the provider's log and retry it from the outbox if it never left. Bundled messages
   whose head was cancelled (the head's claim was paid) are released to be sent on their own.
2. Claim a batch: inside a transaction, SELECT ... FOR UPDATE SKIP LOCKED the due PLANNED rows of channels
   whose send window is open now (on SQLite, which has one writer, a plain SELECT), and mark them SENDING
   with a conditional UPDATE (status still PLANNED). Committed before any external call, so a second
   dispatcher (another qcluster process or host) skips them.
3. Per message, in its own transaction: lock the claim row (SELECT ... FOR UPDATE, the same lock a payment
   takes), re-check the claim is open and not paused (else cancel with the reason), render, send, record
   provider id, cost and time, commit. Because the send happens under the claim lock, a payment committed
   before the re-check cancels the message, and one committed after it waits for the send to finish.
4. A provider error is recorded on the message (last_error; attempts counted at claim time) and retried
   with exponential backoff in the next send window, up to DISPATCH_MAX_ATTEMPTS; then FAILED.
   An invalid recipient marks the contact invalid and plans the step on the next channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns.models import StepKind
from customers.models import Channel
from dunning.channels.base import ChannelError, PermanentChannelError, SendResult, TransientChannelError
from dunning.channels.email import email_send
from dunning.channels.letters import letter_send
from dunning.channels.render import message_render
from dunning.channels.sms import get_sms_backend
from dunning.models import ChannelCost, Claim, Message, Pause
from dunning.services.costs import legal_notice_record
from dunning.windows import is_in_window, next_send_time

logger = logging.getLogger(__name__)

STALE_ERROR = "interrupted while sending: not re-sent automatically; check the provider, then retry or cancel"


@dataclass
class DispatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    stale_failed: int = 0
    bundles_released: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def claim_blocked_reason(*, claim: Claim, now: datetime, step_kind: str = "") -> str:
    """Why nothing may be sent for this claim right now ("" when it may).

    A payment confirmation is the one message that goes out on a paid claim, and only on a paid one.
    """
    if claim.debtor.anonymised_at is not None:
        return "anonymised"
    if step_kind == StepKind.PAYMENT_CONFIRMATION:
        return "" if claim.status == Claim.Status.PAID else "not paid"
    if claim.status == Claim.Status.PAID:
        return "paid"
    if claim.status != Claim.Status.OPEN:
        return f"claim {claim.status}"
    # One query for claim- and debtor-level pauses (the dispatcher asks this once per message).
    paused = (
        Pause.objects.filter(Pause.active_q(now)).filter(Q(claim_id=claim.pk) | Q(debtor_id=claim.debtor_id)).exists()
    )
    return "paused" if paused else ""


def messages_fail_stale(*, now: datetime | None = None) -> int:
    """Step 1: SENDING rows older than the limit become FAILED for review (never re-sent blindly)."""
    limit = timezone.now() - timedelta(minutes=settings.DISPATCH_STALE_SENDING_MINUTES)
    return Message.objects.filter(status=Message.Status.SENDING, sending_since__lt=limit).update(
        status=Message.Status.FAILED, last_error=STALE_ERROR, sending_since=None
    )


def bundles_release() -> int:
    """Bundled messages whose head was cancelled go out on their own (their own claim is re-checked then)."""
    return Message.objects.filter(
        status=Message.Status.BUNDLED,
        sent_at__isnull=True,
        bundled_into__status__in=[Message.Status.CANCELLED, Message.Status.FAILED],
    ).update(status=Message.Status.PLANNED, bundled_into=None)


def _open_channels(now: datetime) -> list[str]:
    return [channel for channel in Channel.values if is_in_window(now, channel)]


def messages_claim(*, now: datetime, batch_size: int) -> list[int]:
    """Step 2: take up to `batch_size` due messages for this dispatcher; committed on return."""
    channels = _open_channels(now)
    if not channels:
        return []
    with transaction.atomic():
        due = Message.objects.filter(status=Message.Status.PLANNED, scheduled_for__lte=now, channel__in=channels)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("scheduled_for", "pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return []
        stamp = timezone.now()
        Message.objects.filter(pk__in=ids, status=Message.Status.PLANNED).update(
            status=Message.Status.SENDING, sending_since=stamp, attempts=F("attempts") + 1
        )
        return list(
            Message.objects.filter(pk__in=ids, status=Message.Status.SENDING, sending_since=stamp).values_list(
                "pk", flat=True
            )
        )


class _Costs:
    def __init__(self, today):
        self.today = today
        self._prices: dict[str, Decimal] = {}

    def price(self, channel: str, parts: int) -> Decimal:
        if channel not in self._prices:
            row = (
                ChannelCost.objects.filter(channel=channel, valid_from__lte=self.today).order_by("-valid_from").first()
            )
            self._prices[channel] = row.price_per_piece if row else Decimal("0")
        return (self._prices[channel] * parts).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _send(message: Message, rendered, now: datetime) -> SendResult:
    debtor = message.claim.debtor
    reference = f"msg-{message.pk}"
    if message.channel == Channel.EMAIL:
        if not debtor.has_valid_contact(Channel.EMAIL):
            raise PermanentChannelError("no valid e-mail address", invalid_recipient=True)
        return email_send(
            to=debtor.email,
            subject=rendered.subject,
            body=rendered.body,
            message_id=message.pk,
            tags=[message.step.kind, message.tone],
        )
    if message.channel == Channel.SMS:
        if not debtor.has_valid_contact(Channel.SMS):
            raise PermanentChannelError("no valid phone number", invalid_recipient=True)
        return get_sms_backend().send(to=debtor.phone, body=rendered.body, reference=reference)
    return letter_send(message=message, subject=rendered.subject, body=rendered.body, context=rendered.context, now=now)


def message_send(*, message_id: int, now: datetime, costs: _Costs, result: DispatchResult) -> str:
    """Step 3 for one claimed message. Returns the outcome: sent / cancelled / retried / failed / skipped."""
    try:
        with transaction.atomic():
            message = Message.objects.select_related("step", "template").get(pk=message_id)
            if message.status != Message.Status.SENDING:
                return "skipped"
            claim = Claim.objects.select_for_update().select_related("debtor").get(pk=message.claim_id)
            reason = claim_blocked_reason(claim=claim, now=now, step_kind=message.step.kind)
            if reason:
                _cancel(message, reason, now)
                Message.objects.filter(bundled_into=message, status=Message.Status.BUNDLED).update(
                    status=Message.Status.PLANNED, bundled_into=None
                )
                result.cancelled += 1
                return "cancelled"
            message.claim = claim
            followers = list(message.bundled_messages.filter(status=Message.Status.BUNDLED).order_by("claim_id"))
            claims = [claim]
            if followers:
                locked = {
                    c.pk: c
                    for c in Claim.objects.select_for_update()
                    .select_related("debtor")
                    .filter(pk__in=[f.claim_id for f in followers])
                    .order_by("pk")
                }
                for follower in followers:
                    why = claim_blocked_reason(claim=locked[follower.claim_id], now=now)
                    if why:
                        _cancel(follower, why, now)
                    else:
                        claims.append(locked[follower.claim_id])
            rendered = message_render(message=message, claims=claims, now=now)
            sent = _send(message, rendered, now)
            message.status = Message.Status.SENT
            message.sent_at = now
            message.sending_since = None
            message.provider_id = sent.provider_id[:200]
            message.recipient = sent.recipient[:255]
            message.subject = rendered.subject[:255]
            message.body = rendered.body
            message.template = rendered.template
            message.template_version = rendered.template.version
            message.cost = costs.price(message.channel, sent.parts)
            message.last_error = ""
            message.save()
            if followers:
                Message.objects.filter(bundled_into=message, status=Message.Status.BUNDLED).update(sent_at=now)
            legal_notice_record(message=message)
            result.sent += 1
            return "sent"
    except ChannelError as error:
        return _failure(message_id, error, now, result)
    except Exception as error:  # one bad row must not stop the batch; unknown errors are retried
        logger.exception("dispatch of message %s failed", message_id)
        return _failure(message_id, TransientChannelError(f"{type(error).__name__}: {error}"), now, result)


def _cancel(message: Message, reason: str, now: datetime) -> None:
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.CANCELLED, cancel_reason=reason[:40], cancelled_at=now, sending_since=None
    )


def _failure(message_id: int, error: ChannelError, now: datetime, result: DispatchResult) -> str:
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("claim__debtor", "step").get(pk=message_id)
        if message.status != Message.Status.SENDING:
            return "skipped"
        message.last_error = str(error)[:2000]
        message.sending_since = None
        if error.retry and message.attempts < settings.DISPATCH_MAX_ATTEMPTS:
            delay = timedelta(minutes=settings.DISPATCH_RETRY_MINUTES * 2 ** (message.attempts - 1))
            message.status = Message.Status.PLANNED
            message.scheduled_for = next_send_time(now + delay, message.channel)
            message.save(update_fields=["status", "scheduled_for", "last_error", "sending_since"])
            result.retried += 1
            return "retried"
        message.status = Message.Status.FAILED
        message.save(update_fields=["status", "last_error", "sending_since"])
        result.failed += 1
    if error.invalid_recipient and message.channel in (Channel.EMAIL, Channel.SMS):
        from dunning.services.delivery import contact_mark_invalid, message_fallback_plan

        contact_mark_invalid(debtor=message.claim.debtor, channel=message.channel, moment=now)
        message_fallback_plan(message=message, now=now)
    return "failed"


def dispatch(*, now: datetime | None = None, batch_size: int | None = None, max_batches: int = 50) -> DispatchResult:
    """Send what is due as of `now`; bounded to `max_batches` batches so a run ends well within its timeout."""
    now = now or timezone.now()
    batch_size = batch_size or settings.DISPATCH_BATCH_SIZE
    result = DispatchResult()
    result.stale_failed = messages_fail_stale(now=now)
    result.bundles_released = bundles_release()
    costs = _Costs(timezone.localdate(now))
    for _ in range(max_batches):
        ids = messages_claim(now=now, batch_size=batch_size)
        if not ids:
            break
        result.claimed += len(ids)
        for message_id in ids:
            message_send(message_id=message_id, now=now, costs=costs, result=result)
    return result


def message_retry(*, message: Message, now: datetime | None = None, actor=None) -> bool:
    """A clerk sends a failed message again (from the outbox). Returns False when it is not FAILED."""
    now = now or timezone.now()
    updated = Message.objects.filter(pk=message.pk, status=Message.Status.FAILED).update(
        status=Message.Status.PLANNED,
        attempts=0,
        scheduled_for=next_send_time(now, message.channel),
        last_error="",
    )
    return updated == 1


def message_cancel(*, message: Message, reason: str = "cancelled by clerk", now: datetime | None = None,
                   actor=None) -> bool:  # fmt: skip
    """A clerk cancels a failed or pending message. Returns False when it already left or was cancelled."""
    now = now or timezone.now()
    updated = Message.objects.filter(pk=message.pk, status__in=[Message.Status.FAILED, Message.Status.PLANNED]).update(
        status=Message.Status.CANCELLED, cancel_reason=reason[:40], cancelled_at=now
    )
    return updated == 1
