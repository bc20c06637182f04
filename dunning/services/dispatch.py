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
3. Per chunk of claimed messages (settings.DISPATCH_CHUNK_SIZE, default 100), in one transaction: lock
   all their claims (and those of messages bundled into them) with one SELECT ... FOR UPDATE ordered by
   id (the lock a payment takes, in the order it takes it), re-check every claim is open and not paused
   (one pause query; else cancel with the reason), render and send each message (a savepoint each, so one
   bad row fails alone), then write the results in bulk (one pipelined UPDATE for the sent rows, one per
   cancel reason, their audit entries in one INSERT, legal notices) and commit. Because the sends happen
   under the claim locks, a payment committed before the lock cancels the message, and one arriving later
   waits for the chunk's commit (at most one chunk). If the chunk cannot be recorded, what was handed to a
   channel stays SENDING (step 1 fails it for review; never re-sent), the rest is retried.
4. A provider error is recorded on the message (last_error; attempts counted at claim time) and retried
   with exponential backoff in the next send window, up to DISPATCH_MAX_ATTEMPTS; then FAILED.
   An invalid recipient marks the contact invalid and plans the step on the next channel.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
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
from dunning.legal import notice_kind_for
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
    deferred: int = 0  # claimed, but the time budget ran out before their chunk: planned again

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _blocked_reason(*, claim: Claim, paused: bool, step_kind: str = "") -> str:
    """`claim_blocked_reason` with the pause check already answered (the dispatcher asks it per chunk)."""
    if claim.debtor.anonymised_at is not None:
        return "anonymised"
    if step_kind == StepKind.PAYMENT_CONFIRMATION:
        return "" if claim.status == Claim.Status.PAID else "not paid"
    if claim.status == Claim.Status.PAID:
        return "paid"
    if claim.status != Claim.Status.OPEN:
        return f"claim {claim.status}"
    return "paused" if paused else ""


def claim_blocked_reason(*, claim: Claim, now: datetime, step_kind: str = "") -> str:
    """Why nothing may be sent for this claim right now ("" when it may).

    A payment confirmation is the one message that goes out on a paid claim, and only on a paid one.
    """
    reason = _blocked_reason(claim=claim, paused=False, step_kind=step_kind)
    if reason or step_kind == StepKind.PAYMENT_CONFIRMATION:
        return reason
    # One query for claim- and debtor-level pauses.
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
    """Bundled messages whose head went nowhere, or left without them, go out on their own.

    A head that was cancelled or failed releases its followers; so does a head that was sent before a
    follower joined it (the planner bundled it between reading the head and inserting the follower):
    such a follower has no sent_at. Their own claim is re-checked when they go.
    """
    return Message.objects.filter(
        status=Message.Status.BUNDLED,
        sent_at__isnull=True,
        bundled_into__status__in=[
            Message.Status.CANCELLED,
            Message.Status.FAILED,
            Message.Status.SENT,
            Message.Status.DELIVERED,
            Message.Status.BOUNCED,
        ],
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


SENT_FIELDS = [
    "status",
    "sent_at",
    "sending_since",
    "provider_id",
    "recipient",
    "subject",
    "body",
    "template",
    "template_version",
    "cost",
    "last_error",
    "document",
]


@dataclass
class _Chunk:
    """What one chunk decided, written in bulk before its commit and counted only after it."""

    outcomes: dict[int, str] = field(default_factory=dict)
    cancel: dict[str, list[int]] = field(default_factory=dict)  # reason -> message ids
    release_heads: list[int] = field(default_factory=list)  # cancelled heads whose followers go out alone
    sent: list[tuple[Message, Message]] = field(default_factory=list)  # (before, after)
    followers_sent: list[int] = field(default_factory=list)  # followers that were in a sent bundle
    failures: list[tuple[int, ChannelError]] = field(default_factory=list)
    attempted: set[int] = field(default_factory=set)  # handed to a channel (or tried to be)
    clock_start: float = field(default_factory=time.monotonic)  # when the run that claimed them began


def message_send(*, message_id: int, now: datetime, costs: _Costs, result: DispatchResult) -> str:
    """Step 3 for one claimed message. Returns the outcome: sent / cancelled / retried / failed / skipped."""
    outcomes = messages_send(message_ids=[message_id], now=now, costs=costs, result=result)
    return outcomes.get(message_id, "skipped")


def messages_send(
    *, message_ids: list[int], now: datetime, costs: _Costs, result: DispatchResult, clock_start: float | None = None
) -> dict[int, str]:
    """Step 3 for a chunk of claimed messages, in one transaction. Returns the outcome per message id.

    All their claims (and the claims of messages bundled into them) are locked with one
    SELECT ... FOR UPDATE ordered by id (the order a payment locks in), re-checked with one pause query,
    then every message is rendered and handed to its channel while the locks are held, and the results are
    written in bulk (one UPDATE for the sent rows, one per cancel reason, one audit INSERT) before the
    commit. A payment committed before the lock cancels its message; one arriving later waits for the
    chunk's commit. A channel error is recorded per message afterwards (`_failure`, as before).
    """
    chunk = _Chunk() if clock_start is None else _Chunk(clock_start=clock_start)
    try:
        with transaction.atomic():
            _chunk_run(chunk, message_ids=message_ids, now=now, costs=costs)
    except Exception:
        # Nothing of the chunk was recorded. What was handed to a channel stays SENDING: it is failed for
        # review by the stale rule, never re-sent blindly; what was not is retried like any error.
        logger.exception("dispatch chunk of %s messages failed", len(message_ids))
        chunk_error = TransientChannelError("dispatch chunk failed before recording; see the log")
        failed = dict(chunk.failures)
        outcomes = {}
        for message_id in message_ids:
            if message_id in failed:
                outcomes[message_id] = _failure_safe(message_id, failed[message_id], now, result)
            elif message_id in chunk.attempted:
                outcomes[message_id] = "interrupted"
            else:
                outcomes[message_id] = _failure_safe(message_id, chunk_error, now, result)
        return outcomes
    result.sent += len(chunk.sent)
    result.cancelled += sum(1 for outcome in chunk.outcomes.values() if outcome == "cancelled")
    for message_id, error in chunk.failures:
        chunk.outcomes[message_id] = _failure_safe(message_id, error, now, result)
    return chunk.outcomes


def _chunk_run(chunk: _Chunk, *, message_ids: list[int], now: datetime, costs: _Costs) -> None:
    messages = list(Message.objects.select_related("step", "template").filter(pk__in=message_ids).order_by("pk"))
    live = []
    for message in messages:
        if message.status == Message.Status.SENDING:
            live.append(message)
        else:
            chunk.outcomes[message.pk] = "skipped"
    if not live:
        return
    followers: dict[int, list[Message]] = {}
    for follower in Message.objects.filter(
        bundled_into_id__in=[m.pk for m in live], status=Message.Status.BUNDLED
    ).order_by("claim_id", "pk"):
        followers.setdefault(follower.bundled_into_id, []).append(follower)
    claim_ids = sorted({m.claim_id for m in live} | {f.claim_id for fs in followers.values() for f in fs})
    # The lock a payment takes, on every claim of the chunk at once, in id order (no deadlock with payments,
    # which lock in id order too). of=("self",): the debtor rows are read, not locked.
    claims = {
        c.pk: c
        for c in Claim.objects.select_for_update(of=("self",))
        .select_related("debtor")
        .filter(pk__in=claim_ids)
        .order_by("pk")
    }
    paused_claims: set[int] = set()
    paused_debtors: set[int] = set()
    debtor_ids = {c.debtor_id for c in claims.values()}
    # Pauses as of the moment the locks are held, not of the run's start: a run lasts minutes, and a clerk
    # who pauses a debtor meanwhile must stop the sends still to come. The run's own clock (now + elapsed)
    # keeps a job run "as of" another moment consistent.
    checked = now + timedelta(seconds=max(time.monotonic() - chunk.clock_start, 0.0))
    for claim_id, debtor_id in (
        Pause.objects.filter(Pause.active_q(checked))
        .filter(Q(claim_id__in=claim_ids) | Q(debtor_id__in=debtor_ids))
        .values_list("claim_id", "debtor_id")
    ):
        if claim_id:
            paused_claims.add(claim_id)
        if debtor_id:
            paused_debtors.add(debtor_id)

    def blocked(claim: Claim, step_kind: str = "") -> str:
        paused = claim.pk in paused_claims or claim.debtor_id in paused_debtors
        return _blocked_reason(claim=claim, paused=paused, step_kind=step_kind)

    for message in live:
        claim = claims[message.claim_id]
        reason = blocked(claim, message.step.kind)
        if reason:
            chunk.cancel.setdefault(reason[:40], []).append(message.pk)
            chunk.release_heads.append(message.pk)
            chunk.outcomes[message.pk] = "cancelled"
            continue
        before = copy.copy(message)
        message.claim = claim
        bundle = [claim]
        follower_cancels: list[tuple[str, int]] = []
        bundled_ids: list[int] = []
        for follower in followers.get(message.pk, ()):
            why = blocked(claims[follower.claim_id])
            if why:
                follower_cancels.append((why[:40], follower.pk))
            else:
                bundle.append(claims[follower.claim_id])
                bundled_ids.append(follower.pk)
        chunk.attempted.add(message.pk)
        try:
            # A savepoint per message: a database error while rendering fails this message, not the chunk.
            with transaction.atomic():
                rendered = message_render(message=message, claims=bundle, now=now)
                sent = _send(message, rendered, now)
        except ChannelError as error:
            chunk.failures.append((message.pk, error))
            continue
        except Exception as error:  # one bad row must not stop the chunk; unknown errors are retried
            logger.exception("dispatch of message %s failed", message.pk)
            chunk.failures.append((message.pk, TransientChannelError(f"{type(error).__name__}: {error}")))
            continue
        before.document = before.document.name  # the letter's FieldFile was changed in place
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
        chunk.sent.append((before, message))
        chunk.outcomes[message.pk] = "sent"
        for why, follower_id in follower_cancels:
            chunk.cancel.setdefault(why, []).append(follower_id)
        chunk.followers_sent.extend(bundled_ids)

    for reason, ids in chunk.cancel.items():
        Message.objects.filter(pk__in=ids).update(
            status=Message.Status.CANCELLED, cancel_reason=reason, cancelled_at=now, sending_since=None
        )
    if chunk.release_heads:
        Message.objects.filter(bundled_into_id__in=chunk.release_heads, status=Message.Status.BUNDLED).update(
            status=Message.Status.PLANNED, bundled_into=None
        )
    if chunk.sent:
        _sent_write([m for _, m in chunk.sent])
        _audit_updates(chunk.sent)
    if chunk.followers_sent:
        # Only the followers that were in the letter: one the planner added meanwhile is released later.
        Message.objects.filter(pk__in=chunk.followers_sent, status=Message.Status.BUNDLED).update(sent_at=now)
    for _, message in chunk.sent:
        if not notice_kind_for(regime=message.claim.regime, step_kind=message.step.kind):
            continue  # legal_notice_record would return None: spare the savepoint
        try:
            with transaction.atomic():
                legal_notice_record(message=message)
        except Exception:  # the daily legal_notices_record_sent records it later; the send stands
            logger.exception("legal notice for message %s could not be recorded", message.pk)


def _sent_write(messages: list[Message]) -> None:
    """One parameterised UPDATE per row sent with executemany (pipelined by psycopg 3): Django's bulk_update
    builds a CASE per column that PostgreSQL plans slowly."""
    fields = [Message._meta.get_field(name) for name in SENT_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(Message._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608 - names from the model
    rows = [
        [f.get_db_prep_save(f.pre_save(message, False), connection) for f in fields] + [message.pk]
        for message in messages
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _audit_updates(changed: list[tuple[Message, Message]]) -> None:
    """The audit entries `message.save()` wrote one by one, written with one INSERT.

    Same content: auditlog's diff with the masking and exclusions registered for Message, its pre_log hook
    (the debtor tag) and the LogEntry pre_save hooks (actor from set_actor, neutral object_repr) are run
    for each entry; only the INSERTs are merged.
    """
    from auditlog import get_logentry_model
    from auditlog.cid import get_cid
    from auditlog.context import auditlog_disabled
    from auditlog.diff import model_instance_diff
    from auditlog.registry import auditlog
    from auditlog.signals import pre_log
    from django.contrib.contenttypes.models import ContentType
    from django.db.models.signals import pre_save
    from django.utils.encoding import smart_str

    if auditlog_disabled.get() or not auditlog.contains(Message):
        return
    log_entry = get_logentry_model()
    content_type = ContentType.objects.get_for_model(Message)
    use_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    cid = get_cid()
    entries = []
    for before, message in changed:
        answers = pre_log.send(Message, instance=message, action=log_entry.Action.UPDATE)
        if any(answer is False for _, answer in answers):
            continue
        changes = model_instance_diff(before, message, use_json_for_changes=use_json)
        if not changes:
            continue
        get_additional_data = getattr(message, "get_additional_data", None)
        entry = log_entry(
            content_type=content_type,
            object_pk=str(message.pk),
            object_id=message.pk,
            object_repr=smart_str(message),
            serialized_data=log_entry.objects._get_serialized_data_or_none(message),
            action=log_entry.Action.UPDATE,
            changes=changes,
            additional_data=get_additional_data() if callable(get_additional_data) else None,
            cid=cid,
        )
        pre_save.send(log_entry, instance=entry, raw=False, using=connection.alias, update_fields=None)
        entries.append(entry)
    log_entry.objects.bulk_create(entries)


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


def _failure_safe(message_id: int, error: ChannelError, now: datetime, result: DispatchResult) -> str:
    """`_failure`, but an error while recording one failure leaves the rest of the batch to be sent."""
    try:
        return _failure(message_id, error, now, result)
    except Exception:
        logger.exception("recording the failure of message %s failed; the stale rule will surface it", message_id)
        return "unrecorded"


def dispatch(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    max_batches: int = 50,
    time_budget_seconds: float | None = None,
) -> DispatchResult:
    """Send what is due as of `now`, in bounded batches, starting no new chunk once the time budget is spent
    (so a run ends well within the task timeout instead of being killed in the middle of a chunk)."""
    clock_start = time.monotonic()
    budget = settings.DISPATCH_TIME_BUDGET_SECONDS if time_budget_seconds is None else time_budget_seconds
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
        chunk_size = settings.DISPATCH_CHUNK_SIZE
        for start in range(0, len(ids), chunk_size):
            if time.monotonic() - clock_start > budget:
                # Claimed but not started: back to planned, for the next run (nothing was handed over).
                Message.objects.filter(pk__in=ids[start:], status=Message.Status.SENDING).update(
                    status=Message.Status.PLANNED, sending_since=None, attempts=F("attempts") - 1
                )
                result.deferred += len(ids) - start
                return result
            messages_send(
                message_ids=ids[start : start + chunk_size],
                now=now,
                costs=costs,
                result=result,
                clock_start=clock_start,
            )
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
