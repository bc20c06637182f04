"""Recording payments, matching them to claims, and stopping reminders the moment a claim is paid.

Every way money arrives (payments API, Mollie webhook, bank statements, a clerk) ends in `payment_record`.
It stores the payment once per (source, external_id), relying on the unique constraint rather than on a
look-up first, so two identical requests at the same instant still leave one payment and one effect.

When a payment matches a claim, the claim row is locked (`select_for_update`), the same lock the
dispatcher holds while it re-checks a claim before sending. In that one transaction the open amount goes
down and, when nothing is left, the claim is settled, every pending message is cancelled (reason "paid")
and every pending escalation proposal is withdrawn. So a message being sent at that instant either left
before the payment committed or never leaves.

Money is applied to the open principal (`open_amount`) first, then to charged costs; what is left over is
flagged for refund (OVERPAID). A payment on a claim that is no longer open is kept and flagged ON_SETTLED
with the whole amount to refund, never dropped.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import StepKind
from config.actors import actor_context
from dunning.models import ZERO, Claim, EscalationProposal, Message, Payment
from dunning.references import payment_reference_normalise, payment_references_in_text

logger = logging.getLogger(__name__)

CANCEL_REASON_PAID = "paid"


class PaymentMatchError(Exception):
    """The payment cannot be matched (already matched, or the claim does not exist)."""


@dataclass(frozen=True)
class PaymentRecorded:
    payment: Payment
    created: bool  # False: this (source, external_id) was already recorded; nothing happened now
    claim_settled: bool = False
    messages_cancelled: int = 0
    proposals_withdrawn: int = 0
    confirmation: Message | None = None


def _reference_candidates(reference_text: str, structured_reference: str) -> list[str]:
    """The references a payment may mean, most specific first (see `claim_for_reference`)."""
    text = (reference_text or "").strip()
    structured = payment_reference_normalise((structured_reference or "").strip())
    if not text and not structured:
        return []
    whole = payment_reference_normalise(text)
    # A structured reference (Strd/CdtrRefInf/Ref, /REMI/STRD/CUR/) is taken as written, first.
    candidates = [ref for ref in (structured, whole) if ref]
    candidates += [ref for ref in payment_references_in_text(text) if ref not in candidates]
    return candidates


def claim_for_reference(reference_text: str, *, structured_reference: str = "", lock: bool = False) -> Claim | None:
    """The claim a reference or a remittance text points at, or None.

    Tries the text as one reference (with or without spaces, dots, dashes), then every valid
    betalingskenmerk found inside free text ("BETALINGSKENM. 5000 0567 8901 2345 aanslag 2026").

    With `lock=True` (inside a transaction) the look-up itself takes the row lock the dispatcher takes,
    so finding and locking the claim is one query. Every candidate row is locked, in primary-key order
    so that two payments naming the same claims cannot deadlock; a text rarely names more than one.
    """
    candidates = _reference_candidates(reference_text, structured_reference)
    if not candidates:
        return None
    claims = Claim.objects.filter(payment_reference__in=candidates)
    if lock:
        claims = claims.select_for_update(of=("self",)).select_related("policy", "debtor").order_by("pk")
    found = {c.payment_reference: c for c in claims}
    for candidate in candidates:
        if candidate in found:
            return found[candidate]
    return None


def _confirmation_plan(*, claim: Claim, now: datetime) -> Message | None:
    """A short thank-you on the channel the debtor was last reached on, when the policy asks for one.

    Needs a PAYMENT_CONFIRMATION step in the claim's policy (it gives the template kind and the allowed
    channels); without one nothing is planned. The (claim, step) constraint makes it at most one.
    """
    policy = claim.policy
    if policy is None or not policy.send_payment_confirmation:
        return None
    step = policy.steps.filter(kind=StepKind.PAYMENT_CONFIRMATION).order_by("order").first()
    if step is None:
        return None
    last = (
        Message.objects.filter(claim__debtor_id=claim.debtor_id, sent_at__isnull=False)
        .exclude(status__in=[Message.Status.BOUNCED, Message.Status.FAILED])
        .order_by("-sent_at", "-id")
        .first()
    )
    channels = list(step.channels or [])
    channel = last.channel if last is not None else (channels[0] if channels else None)
    if channel is None:
        return None
    message, created = Message.objects.get_or_create(
        claim=claim,
        step=step,
        fallback_for=None,
        defaults={
            "channel": channel,
            "tone": last.tone if last is not None else step.default_tone,
            "language": claim.debtor.language,
            "segment": last.segment if last is not None else None,
            "scheduled_for": now,
        },
    )
    return message if created else None


@dataclass(frozen=True)
class _Split:
    """How a payment's amount divides over a claim: principal first, then costs, the rest to refund."""

    to_principal: Decimal
    to_costs: Decimal
    refund: Decimal
    match_status: str


def _split(*, amount: Decimal, claim: Claim) -> _Split:
    if claim.status != Claim.Status.OPEN:
        return _Split(ZERO, ZERO, amount, Payment.MatchStatus.ON_SETTLED)
    to_principal = min(amount, claim.open_amount)
    to_costs = min(amount - to_principal, claim.costs_amount)
    refund = amount - to_principal - to_costs
    status = Payment.MatchStatus.OVERPAID if refund > ZERO else Payment.MatchStatus.MATCHED
    return _Split(to_principal, to_costs, refund, status)


def _claim_apply(*, payment: Payment, claim: Claim, split: _Split, now: datetime) -> PaymentRecorded:
    """Lower the LOCKED claim by a matched payment; settle it and stop its reminders when nothing is left."""
    if payment.match_status == Payment.MatchStatus.ON_SETTLED:
        return PaymentRecorded(payment=payment, created=True)
    claim.open_amount -= split.to_principal
    claim.costs_amount -= split.to_costs
    settled = claim.open_amount == ZERO and claim.costs_amount == ZERO
    cancelled = withdrawn = 0
    confirmation = None
    if settled:
        claim.status = Claim.Status.PAID
        claim.settled_at = now
        claim.save(update_fields=["open_amount", "costs_amount", "status", "settled_at", "updated_at"])
        cancelled = Message.objects.filter(claim=claim, status__in=Message.PENDING_STATUSES).update(
            status=Message.Status.CANCELLED, cancel_reason=CANCEL_REASON_PAID, cancelled_at=now
        )
        withdrawn = EscalationProposal.objects.filter(claim=claim, status=EscalationProposal.Status.PENDING).update(
            status=EscalationProposal.Status.WITHDRAWN, decision_reason="Claim paid / vordering betaald"
        )
        confirmation = _confirmation_plan(claim=claim, now=now)
    else:
        claim.save(update_fields=["open_amount", "costs_amount", "updated_at"])
    return PaymentRecorded(
        payment=payment,
        created=True,
        claim_settled=settled,
        messages_cancelled=cancelled,
        proposals_withdrawn=withdrawn,
        confirmation=confirmation,
    )


def _payment_apply(*, payment: Payment, claim: Claim, now: datetime, actor=None) -> PaymentRecorded:
    """Apply a stored, unmatched payment to a LOCKED claim (a clerk's match); the caller holds the transaction."""
    split = _split(amount=payment.amount, claim=claim)
    payment.claim = claim
    payment.matched_at = now
    payment.matched_by = actor
    payment.match_status = split.match_status
    payment.refund_amount = split.refund
    payment.save(update_fields=["claim", "match_status", "refund_amount", "matched_at", "matched_by"])
    return _claim_apply(payment=payment, claim=claim, split=split, now=now)


def payment_record(
    *,
    source: str,
    external_id: str,
    amount: Decimal,
    paid_at: datetime,
    currency: str = "EUR",
    reference_text: str = "",
    payer_name: str = "",
    payer_account: str = "",
    structured_reference: str = "",
    now: datetime | None = None,
    actor=None,
) -> PaymentRecorded:
    """Store a payment once per (source, external_id) and apply it to the claim its reference names.

    1. Find the claim by reference and lock its row in the same query (the lock the dispatcher takes
       before it sends). No claim: the payment will wait UNMATCHED for a clerk (`payment_match`).
    2. Insert the payment, already matched (so it is written and audited once, not inserted and then
       updated), inside a savepoint. A unique-constraint violation means an identical payment was
       already recorded (or is being recorded right now: PostgreSQL makes us wait for that transaction),
       so we return the stored one with created=False and change nothing.
    3. Lower the claim (see `_claim_apply`); settled: cancel its pending messages in this transaction.
    """
    amount = Decimal(amount).quantize(Decimal("0.01"))
    with actor_context(actor), transaction.atomic():
        claim = claim_for_reference(reference_text, structured_reference=structured_reference, lock=True)
        # The time is taken after the lock so that settled_at orders after any send that held it.
        now = now or timezone.now()
        split = _split(amount=amount, claim=claim) if claim is not None else None
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    source=source,
                    external_id=external_id,
                    amount=amount,
                    currency=currency,
                    paid_at=paid_at,
                    reference_text=" ".join(p for p in (structured_reference, reference_text) if p)[:500],
                    payer_name=(payer_name or "")[:200],
                    payer_account=(payer_account or "")[:34],
                    claim=claim,
                    match_status=split.match_status if split else Payment.MatchStatus.UNMATCHED,
                    refund_amount=split.refund if split else ZERO,
                    matched_at=now if claim is not None else None,
                    matched_by=actor if claim is not None else None,
                )
        except IntegrityError:
            existing = Payment.objects.filter(source=source, external_id=external_id).select_related("claim").first()
            if existing is None:  # some other constraint failed: not a duplicate
                raise
            return PaymentRecorded(payment=existing, created=False)
        if claim is None:
            logger.info("payment %s/%s recorded unmatched", source, external_id)
            return PaymentRecorded(payment=payment, created=True)
        return _claim_apply(payment=payment, claim=claim, split=split, now=now)


def payment_match(*, payment_id: int, claim_id: int, actor=None, now: datetime | None = None) -> PaymentRecorded:
    """A clerk matches an unmatched payment to a claim; same effects as an automatic match."""
    with actor_context(actor), transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.match_status != Payment.MatchStatus.UNMATCHED or payment.claim_id is not None:
            raise PaymentMatchError(f"payment {payment.pk} is already matched ({payment.match_status})")
        try:
            claim = Claim.objects.select_for_update(of=("self",)).select_related("policy", "debtor").get(pk=claim_id)
        except Claim.DoesNotExist as exc:
            raise PaymentMatchError(f"claim {claim_id} does not exist") from exc
        return _payment_apply(payment=payment, claim=claim, now=now or timezone.now(), actor=actor)
