"""The planner: every open, unpaused claim whose next step is due gets a Message row (the outbox).

`plan(now=...)` is what the "plan" schedule and `manage.py dunning_plan` run. Numbered steps:

1. Per policy step (a handful of queries, not one per claim): candidate claims are open, of an active
   policy, not paused (claim or debtor), without a message for this step, with the previous step handled
   (sent, failed, cancelled, ... but not still pending) and no later step started, and due by the
   step's smallest offset (segment overrides can move it).
2. Candidates are streamed in pages ordered by (debtor, claim): memory stays flat however many
   claims there are, and all of one debtor's claims land in the same page so they can be bundled.
3. For a page, one SQL query annotates each claim with its segment (campaigns.rules compiled to a
   CASE over dunning.selectors.segments' attributes): set-based, never one debtor at a time.
4. In Python, per claim, only what needs the chosen segment: the exact due date (override offset, pause
   shift, gap after the previous step), tone (override, or empathetic for an active care flag),
   channel (dunning.channels.choice), template (with experiment variants), send time (send window).
5. Claims of one debtor due for the same step become one message listing them (`bundled_into`).
   Escalation steps become an EscalationProposal plus a message AWAITING_APPROVAL; never sent unasked.
6. Inserts use bulk_create(ignore_conflicts=True) against the (claim, step) unique constraint: running
   twice, late, or in two clusters at once never creates a second message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connections
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from campaigns.experiments import running_experiments, template_override_for
from campaigns.models import PolicyStep, Segment, StepOverride, Tone
from customers.models import ChannelPreference
from dunning import legal
from dunning.channels.choice import choose_channel
from dunning.channels.render import template_lookup
from dunning.models import Claim, EscalationProposal, Message, Pause
from dunning.selectors.segments import CHOSEN_SEGMENT, claims_with_segment
from dunning.windows import next_send_time

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# A step counts as handled (so the next may follow) once its message left the pending states.
HANDLED = [
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.BOUNCED,
    Message.Status.FAILED,
    Message.Status.CANCELLED,
    Message.Status.BUNDLED,
]


@dataclass
class PlanResult:
    candidates: int = 0
    planned: int = 0
    bundled: int = 0
    awaiting_approval: int = 0
    not_yet_due: int = 0
    already_planned: int = 0
    by_step: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "candidates": self.candidates,
            "planned": self.planned,
            "bundled": self.bundled,
            "awaiting_approval": self.awaiting_approval,
            "not_yet_due": self.not_yet_due,
            "already_planned": self.already_planned,
        }


class _Context:
    """What a planner run loads once: segments, overrides, templates, experiments."""

    def __init__(self, now: datetime):
        self.now = now
        self.today = timezone.localdate(now)
        self.segments = list(Segment.objects.filter(is_active=True).order_by("priority", "id"))
        self.segment_by_id = {s.pk: s for s in self.segments}
        self.overrides = {(o.step_id, o.segment_id): o for o in StepOverride.objects.all()}
        self.experiments = running_experiments()
        self._templates: dict = {}

    def template(self, *, step_kind: str, tone: str, channel: str, language: str):
        key = (step_kind, tone, channel, language)
        if key not in self._templates:
            self._templates[key] = template_lookup(step_kind=step_kind, tone=tone, channel=channel, language=language)
        return self._templates[key]


def candidate_claims(*, step: PolicyStep, previous: PolicyStep | None, min_offset: int, now: datetime):
    today = timezone.localdate(now)
    queryset = Claim.objects.filter(
        policy_id=step.policy_id,
        status=Claim.Status.OPEN,
        due_on__lte=today - timedelta(days=min_offset),
        debtor__anonymised_at__isnull=True,
    ).filter(
        # fallback_for IS NULL: the same as "any message for this step" (a fallback always has an original),
        # and it lets PostgreSQL use the partial unique index on (claim, step).
        ~Exists(Message.objects.filter(claim=OuterRef("pk"), step=step, fallback_for__isnull=True)),
        ~Exists(
            Message.objects.filter(claim=OuterRef("pk"), step__policy_id=step.policy_id, step__order__gt=step.order)
        ),
        ~Exists(Pause.objects.filter(Pause.active_q(now), claim=OuterRef("pk"))),
        ~Exists(Pause.objects.filter(Pause.active_q(now), debtor=OuterRef("debtor_id"))),
    )
    if previous is not None:
        handled = Message.objects.filter(
            claim=OuterRef("pk"), step=previous, fallback_for__isnull=True, status__in=HANDLED
        )
        queryset = queryset.filter(Exists(handled))
    return queryset


def _pages(queryset, batch_size: int):
    """Pages of about `batch_size` claim ids in (debtor, claim) order, never splitting a debtor.

    One query per step, streamed (a server-side cursor on PostgreSQL): re-running the candidate query per
    page (keyset pagination) made PostgreSQL compute and sort the whole candidate set once per page, which
    at a million open claims cost more than the planning itself (bench/RESULTS.md).
    """
    rows = queryset.order_by("debtor_id", "pk").values_list("debtor_id", "pk")
    if connections[queryset.db].vendor == "postgresql":
        rows = rows.iterator(chunk_size=batch_size)
    else:  # SQLite gives no isolation between a chunked read and the inserts made while reading it
        rows = list(rows)
    page: list[int] = []
    last_debtor = None
    for debtor_id, claim_id in rows:
        if len(page) >= batch_size and debtor_id != last_debtor:
            yield page
            page = []
        page.append(claim_id)
        last_debtor = debtor_id
    if page:
        yield page


def plan(*, now: datetime, batch_size: int = BATCH_SIZE) -> PlanResult:
    """Write Message rows for every claim whose next step is due as of `now`. Idempotent."""
    context = _Context(now)
    result = PlanResult()
    steps = list(
        PolicyStep.objects.filter(policy__is_active=True).select_related("policy").order_by("policy_id", "order")
    )
    previous_by_step: dict[int, PolicyStep | None] = {}
    for index, step in enumerate(steps):
        before = steps[index - 1] if index and steps[index - 1].policy_id == step.policy_id else None
        previous_by_step[step.pk] = before
    for step in steps:
        offsets = [step.offset_days] + [
            o.offset_days
            for (step_id, _), o in context.overrides.items()
            if step_id == step.pk and o.offset_days is not None
        ]
        queryset = candidate_claims(step=step, previous=previous_by_step[step.pk], min_offset=min(offsets), now=now)
        for claim_ids in _pages(queryset, batch_size):
            _plan_page(
                step=step, previous=previous_by_step[step.pk], claim_ids=claim_ids, context=context, result=result
            )
    return result


def _plan_page(*, step: PolicyStep, previous: PolicyStep | None, claim_ids: list[int], context: _Context,
               result: PlanResult) -> None:  # fmt: skip
    now, today = context.now, context.today
    queryset = Claim.objects.filter(pk__in=claim_ids).select_related("debtor")
    if previous is not None:
        queryset = queryset.annotate(
            previous_scheduled_for=Subquery(
                Message.objects.filter(claim=OuterRef("pk"), step=previous, fallback_for__isnull=True).values(
                    "scheduled_for"
                )[:1]
            )
        )
    claims = list(
        claims_with_segment(queryset, now=now, segments=context.segments).order_by("debtor_id", "due_on", "pk")
    )
    preferences = {
        p.debtor_id: p for p in ChannelPreference.objects.filter(debtor_id__in={c.debtor_id for c in claims})
    }
    result.candidates += len(claims)

    due: list[tuple[Claim, dict]] = []
    for claim in claims:
        segment = context.segment_by_id.get(getattr(claim, CHOSEN_SEGMENT))
        override = context.overrides.get((step.pk, segment.pk)) if segment else None
        offset = override.offset_days if override and override.offset_days is not None else step.offset_days
        due_on = claim.due_on + timedelta(days=offset + claim.schedule_shift_days)
        if previous is not None and claim.previous_scheduled_for is not None:
            # Keep the policy's rhythm after a late start or a pause: never two steps in a burst.
            gap = max(step.offset_days - previous.offset_days, 1)
            due_on = max(due_on, timezone.localdate(claim.previous_scheduled_for) + timedelta(days=gap))
        if due_on > today:
            result.not_yet_due += 1
            continue
        care = bool(claim.seg_has_active_care_flag)
        tone = Tone.EMPATHETIC if care else (override.tone if override and override.tone else step.default_tone)
        allowed = override.channels if override and override.channels else step.channels
        preference = preferences.get(claim.debtor_id)
        channel = choose_channel(debtor=claim.debtor, preference=preference, allowed=allowed)
        language = claim.debtor.language
        template = context.template(step_kind=step.kind, tone=tone, channel=channel, language=language)
        variant = None
        if template is not None and step.pk in context.experiments:
            chosen = template_override_for(step, claim.pk, template=template, running=context.experiments)
            if chosen is not None:
                template, variant = chosen
        due.append(
            (
                claim,
                {
                    "segment": segment,
                    "segment_version": segment.version if segment else None,
                    "tone": tone,
                    "channel": channel,
                    "language": language,
                    "template": template,
                    "template_version": template.version if template else None,
                    "experiment_variant": variant,
                    "scheduled_for": next_send_time(now, channel),
                    "care": care,
                },
            )
        )
    if not due:
        return

    stamp = timezone.now()
    primaries: list[tuple[Claim, dict]] = []
    followers: dict[int, list[tuple[Claim, dict]]] = defaultdict(list)  # primary claim id -> bundled
    if step.needs_approval:
        primaries = due
    else:
        first_of_debtor: dict[int, Claim] = {}
        for claim, choice in due:
            head = first_of_debtor.get(claim.debtor_id)
            if head is None:
                first_of_debtor[claim.debtor_id] = claim
                primaries.append((claim, choice))
            else:
                followers[head.pk].append((claim, choice))

    status = Message.Status.AWAITING_APPROVAL if step.needs_approval else Message.Status.PLANNED
    Message.objects.bulk_create(
        [_message(claim, step, choice, status=status, stamp=stamp) for claim, choice in primaries],
        ignore_conflicts=True,
    )
    stored = {
        m.claim_id: m
        for m in Message.objects.filter(
            step=step, claim_id__in=[c.pk for c, _ in primaries], fallback_for__isnull=True
        ).only("pk", "claim_id", "status", "created_at")
    }
    created = [m for m in stored.values() if m.created_at == stamp]
    result.already_planned += len(primaries) - len(created)
    if step.needs_approval:
        result.awaiting_approval += len(created)
        _proposals_create(step=step, primaries=primaries, stored=stored, today=today)
    else:
        result.planned += len(created)

    bundled: list[Message] = []
    loose: list[Message] = []
    for primary_claim_id, items in followers.items():
        head = stored.get(primary_claim_id)
        for claim, choice in items:
            if head is not None and head.status == Message.Status.PLANNED:
                message = _message(claim, step, choice, status=Message.Status.BUNDLED, stamp=stamp)
                message.bundled_into_id = head.pk
                message.channel = _head_channel(primaries, primary_claim_id, choice)
                bundled.append(message)
            else:  # the head was planned earlier and has moved on: plan this claim on its own
                loose.append(_message(claim, step, choice, status=Message.Status.PLANNED, stamp=stamp))
    if bundled or loose:
        Message.objects.bulk_create([*bundled, *loose], ignore_conflicts=True)
        fresh = Message.objects.filter(
            step=step, claim_id__in=[m.claim_id for m in (*bundled, *loose)], created_at=stamp
        ).values_list("status", flat=True)
        for value in fresh:
            if value == Message.Status.BUNDLED:
                result.bundled += 1
            else:
                result.planned += 1
        result.already_planned += len(bundled) + len(loose) - len(fresh)
    result.by_step[str(step)] = result.by_step.get(str(step), 0) + len(created)


def _head_channel(primaries, primary_claim_id: int, fallback: dict) -> str:
    for claim, choice in primaries:
        if claim.pk == primary_claim_id:
            return choice["channel"]
    return fallback["channel"]


def _message(claim: Claim, step: PolicyStep, choice: dict, *, status: str, stamp: datetime) -> Message:
    return Message(
        claim=claim,
        step=step,
        channel=choice["channel"],
        tone=choice["tone"],
        language=choice["language"],
        template=choice["template"],
        template_version=choice["template_version"],
        segment=choice["segment"],
        segment_version=choice["segment_version"],
        experiment_variant=choice["experiment_variant"],
        scheduled_for=choice["scheduled_for"],
        status=status,
        created_at=stamp,
    )


def _proposals_create(*, step: PolicyStep, primaries, stored: dict[int, Message], today) -> None:
    proposals = []
    for claim, choice in primaries:
        message = stored.get(claim.pk)
        if message is None or message.status != Message.Status.AWAITING_APPROVAL:
            continue
        terms = legal.terms_for_message(claim=claim, step=step, sent_on=today)
        proposals.append(
            EscalationProposal(
                claim=claim,
                step=step,
                message=message,
                action=step.kind,
                proposed_costs=terms.costs_if_unpaid,
                needs_second_approval=choice["care"],
            )
        )
    EscalationProposal.objects.bulk_create(proposals, ignore_conflicts=True)
