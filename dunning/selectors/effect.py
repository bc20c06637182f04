"""Effect figures: which segment, tone, channel and step make people pay sooner, and at what cost.

Every figure is computed in the database with one aggregate query per report (plus one for the merged
"other" group), never by looping over messages in Python. Definitions (also in docs/effect.md):

- A message *counts as sent* when it has `sent_at` inside the period and status sent, delivered,
  bounced or bundled (a bundled message reached the debtor inside another one).
- A claim is *paid* when its status is paid; the moment it was paid is `Claim.settled_at`, which the
  payment service sets when the last open euro arrives. "Paid within N days" of a message means
  `0 <= settled_at - sent_at < N days`. The share is taken over *mature* messages only: those sent at
  least N days before `now`, so that recent messages do not drag the share down.
- *Median days to payment*: the median of `settled_at - sent_at` (in days, fractional) over sent
  messages whose claim was paid after the message, however long after.
- *Needed a next step*: another message of the same claim, on a different step (a fallback on the same
  step after a bounce does not count) and not a payment confirmation, was sent after this one.
- *Bounced*: status bounced, `bounced_at` set, or a bounced/rejected delivery event.
- *Cost* of a message: `Message.cost` when the dispatcher recorded one (> 0), otherwise the
  `ChannelCost` price in force on the day it was sent; bundled messages cost nothing (the message they
  rode along with paid the postage).
- *Collected*: payments on the claim with `paid_at` within 30 days after the message. A payment after
  two reminders counts for both: the figure answers "what came in after this message", not "which
  message earned it". Cost per euro collected = cost / collected.
- *Reminders avoided*: messages cancelled with cancel_reason "paid" (a payment stopped them) inside
  the period (by `cancelled_at`); *saved* = those messages x the channel price on that day.

Group level only (GDPR): a group is shown only when at least `EFFECT_MIN_GROUP_SIZE` distinct debtors
(people) are in it; smaller groups are merged into one "other" row, which is itself suppressed when it
is still below the minimum.
"""

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Floor, TruncDate
from django.utils import timezone

from campaigns.models import StepKind
from dunning.models import ChannelCost, Claim, DeliveryEvent, Message, Payment

DEFAULT_MIN_GROUP_SIZE = 10
PAID_WINDOWS = (7, 14, 30)
CURVE_DAYS = 30
COLLECTED_WINDOW_DAYS = 30
CANCEL_REASON_PAID = "paid"
SENT_STATUSES = (
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.BOUNCED,
    Message.Status.BUNDLED,
)
BOUNCE_EVENT_KINDS = (DeliveryEvent.Kind.BOUNCED, DeliveryEvent.Kind.REJECTED)
RATE = DecimalField(max_digits=14, decimal_places=4)
CENT = Decimal("0.01")

# Group keys a report can be split by; the values are ORM paths on Message.
GROUP_FIELDS = {
    "segment": "segment_id",
    "segment_name": "segment__name",
    "tone": "tone",
    "channel": "channel",
    "step_kind": "step__kind",
    "template": "template_id",
    "template_version": "template_version",
    "variant": "experiment_variant_id",
}
BASE_KEYS = ("segment", "segment_name", "tone", "channel", "step_kind")


def min_group_size() -> int:
    return int(getattr(settings, "EFFECT_MIN_GROUP_SIZE", DEFAULT_MIN_GROUP_SIZE))


# ---------------------------------------------------------------------------------------------------
# SQL building blocks


class DaysBetween(Func):
    """(end - start) in days as a float; NULL when either side is NULL."""

    output_field = FloatField()
    arity = 2

    def _parts(self, compiler, connection):
        start, end = (compiler.compile(expression) for expression in self.get_source_expressions())
        return start, end

    def as_sql(self, compiler, connection, **extra_context):
        start, end = self._parts(compiler, connection)
        # PostgreSQL (and the generic fallback): interval in seconds.
        return f"(EXTRACT(EPOCH FROM ({end[0]} - {start[0]})) / 86400.0)", (*end[1], *start[1])

    def as_sqlite(self, compiler, connection, **extra_context):
        start, end = self._parts(compiler, connection)
        return f"(julianday({end[0]}) - julianday({start[0]}))", (*end[1], *start[1])


class Median(Aggregate):
    """Median with percentile_cont (PostgreSQL); NULLs are ignored."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class ValueList(Aggregate):
    """Comma-separated values of one group (SQLite has no percentile_cont): the median is taken from
    this list after the query. Values are rounded to 0.01 day so the list stays short."""

    function = "GROUP_CONCAT"
    output_field = CharField()


def _median_aggregate(expression):
    if connection.vendor == "postgresql":
        return Median(expression)
    return ValueList(Func(expression, Value(2), function="ROUND", output_field=FloatField()))


def _median_value(raw) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float):
        return round(float(raw), 2)
    return round(float(statistics.median(float(value) for value in str(raw).split(","))), 2)


def _rate_at(day_alias: str):
    """The ChannelCost price for the message's channel in force on the day in the outer query's
    `day_alias` (see `_with_days`)."""
    return Subquery(
        ChannelCost.objects.filter(channel=OuterRef("channel"), valid_from__lte=OuterRef(day_alias))
        .order_by("-valid_from")
        .values("price_per_piece")[:1],
        output_field=RATE,
    )


def _with_days(queryset: QuerySet) -> QuerySet:
    """Local send and cancel days, for looking up the channel price in force."""
    return queryset.alias(sent_day=TruncDate("sent_at"), cancelled_day=TruncDate("cancelled_at"))


def effective_cost():
    """Message.cost when recorded, else the channel price on the send day; bundled messages are free."""
    return Case(
        When(status=Message.Status.BUNDLED, then=Value(Decimal("0"))),
        When(cost__gt=0, then=F("cost")),
        default=Coalesce(_rate_at("sent_day"), Value(Decimal("0"))),
        output_field=RATE,
    )


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# ---------------------------------------------------------------------------------------------------
# Effect figures


@dataclass
class EffectRow:
    key: dict
    people: int = 0
    sent: int = 0
    mature: dict = field(default_factory=dict)  # window -> messages old enough to judge
    paid: dict = field(default_factory=dict)  # window -> paid within the window
    median_days: float | None = None
    next_step: int = 0
    bounced: int = 0
    cost: Decimal = Decimal("0")
    collected: Decimal = Decimal("0")
    avoided: int = 0
    saved: Decimal = Decimal("0")
    is_other: bool = False

    def share_paid(self, window: int) -> float | None:
        base = self.mature.get(window, 0)
        return self.paid.get(window, 0) / base if base else None

    @property
    def share_paid_7(self) -> float | None:
        return self.share_paid(7)

    @property
    def share_paid_14(self) -> float | None:
        return self.share_paid(14)

    @property
    def share_paid_30(self) -> float | None:
        return self.share_paid(30)

    @property
    def share_next_step(self) -> float | None:
        return self.next_step / self.sent if self.sent else None

    @property
    def bounce_rate(self) -> float | None:
        return self.bounced / self.sent if self.sent else None

    @property
    def cost_per_message(self) -> Decimal | None:
        return (self.cost / self.sent).quantize(Decimal("0.0001")) if self.sent else None

    @property
    def cost_per_euro(self) -> Decimal | None:
        return (self.cost / self.collected).quantize(Decimal("0.000001")) if self.collected else None

    @property
    def cost_per_100_euro(self) -> Decimal | None:
        """Cost per euro reads as 0.0000 for e-mail; per 100 euro collected is what the page shows."""
        return (self.cost * 100 / self.collected).quantize(CENT) if self.collected else None

    def __getitem__(self, name):  # lets templates and tests read keys as row.key fields
        return self.key[name]


@dataclass
class EffectReport:
    rows: list[EffectRow]
    other: EffectRow | None
    suppressed_groups: int  # small groups merged into "other" that was itself too small
    merged_groups: int  # small groups merged into a shown "other" row
    min_group_size: int
    keys: tuple[str, ...]

    @property
    def all_rows(self) -> list[EffectRow]:
        return self.rows + ([self.other] if self.other else [])


def _scope_q(start: datetime, end: datetime) -> tuple[Q, Q]:
    is_sent = Q(sent_at__isnull=False, sent_at__gte=start, sent_at__lt=end, status__in=SENT_STATUSES)
    is_avoided = Q(
        status=Message.Status.CANCELLED,
        cancel_reason=CANCEL_REASON_PAID,
        cancelled_at__gte=start,
        cancelled_at__lt=end,
    )
    return is_sent, is_avoided


def _annotated(queryset: QuerySet) -> QuerySet:
    later_step = Message.objects.filter(
        claim=OuterRef("claim"), sent_at__isnull=False, sent_at__gt=OuterRef("sent_at")
    ).exclude(Q(step=OuterRef("step")) | Q(step__kind=StepKind.PAYMENT_CONFIRMATION))
    bounce_event = DeliveryEvent.objects.filter(message=OuterRef("pk"), kind__in=BOUNCE_EVENT_KINDS)
    collected = (
        Payment.objects.filter(
            claim=OuterRef("claim"),
            paid_at__gte=OuterRef("sent_at"),
            paid_at__lt=OuterRef("sent_at") + timedelta(days=COLLECTED_WINDOW_DAYS),
        )
        .order_by()
        .values("claim")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return _with_days(queryset).alias(
        days_to_paid=Case(
            When(claim__status=Claim.Status.PAID, then=DaysBetween("sent_at", "claim__settled_at")),
            default=None,
            output_field=FloatField(),
        ),
        has_next_step=Exists(later_step),
        has_bounce_event=Exists(bounce_event),
        effective_cost=effective_cost(),
        collected_after=Coalesce(Subquery(collected, output_field=RATE), Value(Decimal("0")), output_field=RATE),
        avoided_rate=Coalesce(_rate_at("cancelled_day"), Value(Decimal("0")), output_field=RATE),
    )


def _aggregates(is_sent: Q, is_avoided: Q, now: datetime) -> dict:
    paid_after = Q(days_to_paid__gte=0)
    aggregates = {
        "people": Count("claim__debtor_id", distinct=True),
        "sent": Count("id", filter=is_sent),
        "median_days": _median_aggregate(
            Case(When(is_sent & paid_after, then=F("days_to_paid")), default=None, output_field=FloatField())
        ),
        "next_step": Count("id", filter=is_sent & Q(has_next_step=True)),
        "bounced": Count(
            "id",
            filter=is_sent
            & (Q(status=Message.Status.BOUNCED) | Q(bounced_at__isnull=False) | Q(has_bounce_event=True)),
        ),
        "cost": Sum("effective_cost", filter=is_sent, output_field=RATE),
        "collected": Sum("collected_after", filter=is_sent, output_field=RATE),
        "avoided": Count("id", filter=is_avoided),
        "saved": Sum("avoided_rate", filter=is_avoided, output_field=RATE),
    }
    for window in PAID_WINDOWS:
        mature = is_sent & Q(sent_at__lte=now - timedelta(days=window))
        aggregates[f"mature_{window}"] = Count("id", filter=mature)
        aggregates[f"paid_{window}"] = Count("id", filter=mature & paid_after & Q(days_to_paid__lt=window))
    return aggregates


def _money(value) -> Decimal:
    return Decimal(str(value or 0))


def _row(values: dict, keys: Sequence[str], *, is_other: bool = False) -> EffectRow:
    return EffectRow(
        key={name: values.get(GROUP_FIELDS[name]) for name in keys},
        people=values["people"] or 0,
        sent=values["sent"] or 0,
        mature={window: values[f"mature_{window}"] or 0 for window in PAID_WINDOWS},
        paid={window: values[f"paid_{window}"] or 0 for window in PAID_WINDOWS},
        median_days=_median_value(values["median_days"]),
        next_step=values["next_step"] or 0,
        bounced=values["bounced"] or 0,
        cost=_money(values["cost"]),
        collected=_money(values["collected"]),
        avoided=values["avoided"] or 0,
        saved=_money(values["saved"]),
        is_other=is_other,
    )


def _group_q(values: dict, keys: Iterable[str]) -> Q:
    return Q(**{GROUP_FIELDS[name]: values.get(GROUP_FIELDS[name]) for name in keys if name != "segment_name"})


def grouped_figures(
    *,
    queryset: QuerySet,
    start: datetime,
    end: datetime,
    keys: Sequence[str],
    now: datetime,
    min_size: int | None = None,
) -> EffectReport:
    """Figures for `queryset` (messages, already filtered) split by `keys`, small groups merged."""
    min_size = min_group_size() if min_size is None else min_size
    is_sent, is_avoided = _scope_q(start, end)
    scoped = _annotated(queryset.filter(is_sent | is_avoided))
    aggregates = _aggregates(is_sent, is_avoided, now)
    paths = [GROUP_FIELDS[name] for name in keys]
    grouped = list(scoped.order_by().values(*paths).annotate(**aggregates).order_by(*paths))

    shown = [values for values in grouped if (values["people"] or 0) >= min_size]
    small = [values for values in grouped if (values["people"] or 0) < min_size]
    rows = [_row(values, keys) for values in shown]
    other = None
    suppressed = merged = 0
    if small:
        small_q = Q()
        for values in small:
            small_q |= _group_q(values, keys)
        # One row over all small groups together. aggregate() cannot reach the aliases, so the query
        # selects a constant (which adds nothing to GROUP BY) and aggregates like the grouped one.
        other_values = (
            scoped.filter(small_q).annotate(merged=Value(1)).order_by().values("merged").annotate(**aggregates)[0]
        )
        if (other_values["people"] or 0) >= min_size:
            other = _row(other_values, keys, is_other=True)
            merged = len(small)
        else:
            suppressed = len(small)
    rows.sort(key=lambda row: tuple("" if row.key[name] is None else str(row.key[name]) for name in keys))
    return EffectReport(
        rows=rows,
        other=other,
        suppressed_groups=suppressed,
        merged_groups=merged,
        min_group_size=min_size,
        keys=tuple(keys),
    )


def _filtered(*, policy=None, claim_kind: str | None = None) -> QuerySet:
    queryset = Message.objects.all()
    if policy is not None:
        queryset = queryset.filter(step__policy=policy)
    if claim_kind:
        queryset = queryset.filter(claim__kind=claim_kind)
    return queryset


def effect_figures(
    *,
    start: date,
    end: date,
    now: datetime | None = None,
    policy=None,
    claim_kind: str | None = None,
    by_template: bool = False,
    min_size: int | None = None,
) -> EffectReport:
    """Segment x tone x channel x step kind (x template version) over messages sent from `start` up to
    and including `end` (local dates)."""
    now = now or timezone.now()
    keys = BASE_KEYS + (("template", "template_version") if by_template else ())
    return grouped_figures(
        queryset=_filtered(policy=policy, claim_kind=claim_kind),
        start=_aware(start),
        end=_aware(end + timedelta(days=1)),
        keys=keys,
        now=now,
        min_size=min_size,
    )


# ---------------------------------------------------------------------------------------------------
# Payment curves: share paid by day 0..30 after the message, per tone or per channel


@dataclass
class Curve:
    label: str
    key: str
    people: int
    sent: int
    points: list[float]  # points[d] = share paid within d days, d = 0..CURVE_DAYS


def payment_curves(
    *,
    by: str,
    start: date,
    end: date,
    now: datetime | None = None,
    policy=None,
    claim_kind: str | None = None,
    min_size: int | None = None,
    labels: dict | None = None,
) -> list[Curve]:
    """One curve per value of `by` ("tone" or "channel"): two queries (totals, and paid counts per
    day bucket), cumulated over at most 31 buckets per curve. Only messages at least CURVE_DAYS old
    count, so every point of a curve has the same base. Groups below the minimum size are left out."""
    assert by in ("tone", "channel")
    now = now or timezone.now()
    min_size = min_group_size() if min_size is None else min_size
    mature_end = min(_aware(end + timedelta(days=1)), now - timedelta(days=CURVE_DAYS))
    base = _filtered(policy=policy, claim_kind=claim_kind).filter(
        sent_at__isnull=False, sent_at__gte=_aware(start), sent_at__lt=mature_end, status__in=SENT_STATUSES
    )
    totals = {
        values[by]: values
        for values in base.order_by()
        .values(by)
        .annotate(people=Count("claim__debtor_id", distinct=True), sent=Count("id"))
    }
    buckets = (
        base.filter(claim__status=Claim.Status.PAID)
        .alias(days=DaysBetween("sent_at", "claim__settled_at"))
        .filter(days__gte=0, days__lt=CURVE_DAYS)
        .annotate(day=Floor("days"))
        .order_by()
        .values(by, "day")
        .annotate(paid=Count("id"))
    )
    per_day: dict[str, list[int]] = {key: [0] * CURVE_DAYS for key in totals}
    for values in buckets:
        if values[by] in per_day:
            per_day[values[by]][int(values["day"])] += values["paid"]
    curves = []
    for key, values in sorted(totals.items()):
        if values["people"] < min_size:
            continue
        running, points = 0, [0.0]
        for count in per_day[key]:
            running += count
            points.append(running / values["sent"])
        curves.append(
            Curve(
                label=str((labels or {}).get(key, key)),
                key=key,
                people=values["people"],
                sent=values["sent"],
                points=points,
            )
        )
    return curves


# ---------------------------------------------------------------------------------------------------
# Dashboard: today, this month


@dataclass
class Dashboard:
    open_amount: Decimal
    claims_by_status: dict[str, int]
    outbox_today: dict[str, dict[str, int]]  # channel -> {"planned", "sent", "failed"}
    payments_today_count: int
    payments_today_amount: Decimal
    cost_by_channel: dict[str, dict]  # channel -> {"messages", "cost", "avoided", "saved"}
    cost_total: Decimal
    saved_total: Decimal


def dashboard_figures(*, now: datetime | None = None) -> Dashboard:
    """What a clerk sees first: five small aggregate queries, whatever the size of the database."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_start, day_end = _aware(today), _aware(today + timedelta(days=1))
    month_start = _aware(today.replace(day=1))

    claims = Claim.objects.order_by().values("status").annotate(n=Count("id"), open=Sum("open_amount"))
    claims_by_status = {values["status"]: values["n"] for values in claims}
    open_amount = sum(
        (_money(values["open"]) for values in claims if values["status"] == Claim.Status.OPEN), Decimal("0")
    )

    outbox = (
        Message.objects.filter(
            Q(status=Message.Status.PLANNED, scheduled_for__lt=day_end)
            | Q(sent_at__gte=day_start, sent_at__lt=day_end)
            | Q(status=Message.Status.FAILED, scheduled_for__gte=day_start, scheduled_for__lt=day_end)
        )
        .order_by()
        .values("channel")
        .annotate(
            planned=Count("id", filter=Q(status=Message.Status.PLANNED)),
            sent=Count("id", filter=Q(sent_at__gte=day_start, sent_at__lt=day_end, status__in=SENT_STATUSES)),
            failed=Count("id", filter=Q(status=Message.Status.FAILED)),
        )
    )
    outbox_today = {
        values["channel"]: {name: values[name] for name in ("planned", "sent", "failed")} for values in outbox
    }

    payments = Payment.objects.filter(paid_at__gte=day_start, paid_at__lt=day_end).aggregate(
        n=Count("id"), total=Sum("amount")
    )

    is_sent, is_avoided = _scope_q(month_start, day_end)
    costs = (
        _with_days(Message.objects.filter(is_sent | is_avoided))
        .alias(
            effective_cost=effective_cost(),
            avoided_rate=Coalesce(_rate_at("cancelled_day"), Value(Decimal("0")), output_field=RATE),
        )
        .order_by()
        .values("channel")
        .annotate(
            messages=Count("id", filter=is_sent),
            cost=Sum("effective_cost", filter=is_sent, output_field=RATE),
            avoided=Count("id", filter=is_avoided),
            saved=Sum("avoided_rate", filter=is_avoided, output_field=RATE),
        )
    )
    cost_by_channel = {
        values["channel"]: {
            "messages": values["messages"],
            "cost": _money(values["cost"]).quantize(CENT),
            "avoided": values["avoided"],
            "saved": _money(values["saved"]).quantize(CENT),
        }
        for values in costs
    }
    return Dashboard(
        open_amount=open_amount.quantize(CENT),
        claims_by_status=claims_by_status,
        outbox_today=outbox_today,
        payments_today_count=payments["n"] or 0,
        payments_today_amount=_money(payments["total"]),
        cost_by_channel=cost_by_channel,
        cost_total=sum((c["cost"] for c in cost_by_channel.values()), Decimal("0")),
        saved_total=sum((c["saved"] for c in cost_by_channel.values()), Decimal("0")),
    )


# ---------------------------------------------------------------------------------------------------
# Experiments


EXPERIMENT_WINDOW_DAYS = 14


@dataclass
class VariantFigures:
    variant: object  # campaigns.ExperimentVariant
    row: EffectRow | None  # None when the group is below the minimum size
    n: int = 0  # mature messages (sent at least EXPERIMENT_WINDOW_DAYS ago)
    paid: int = 0
    interval: tuple[float, float] | None = None

    @property
    def rate(self) -> float | None:
        return self.paid / self.n if self.n else None

    @property
    def interval_bar(self) -> tuple[str, str] | None:
        """(left, width) in percent, for drawing the interval as a bar."""
        if self.interval is None:
            return None
        low, high = self.interval
        return f"{low * 100:.1f}", f"{(high - low) * 100:.1f}"


def experiment_figures(*, experiment, now: datetime | None = None, min_size: int | None = None) -> list:
    """Per variant: the effect figures since the experiment started and the payment rate within
    EXPERIMENT_WINDOW_DAYS with its 95% Wilson interval. Variants below the minimum size show no
    figures (they are not merged: an "other" row means nothing in an experiment)."""
    from campaigns.experiments import wilson_interval

    now = now or timezone.now()
    variants = list(experiment.variants.select_related("template").order_by("label", "id"))
    end = experiment.stopped_at or now
    report = grouped_figures(
        queryset=Message.objects.filter(experiment_variant__experiment=experiment),
        start=experiment.started_at,
        end=end + timedelta(seconds=1),
        keys=("variant",),
        now=now,
        min_size=min_size,
    )
    by_variant = {row.key["variant"]: row for row in report.rows}
    result = []
    for variant in variants:
        row = by_variant.get(variant.pk)
        figures = VariantFigures(variant=variant, row=row)
        if row is not None:
            figures.n = row.mature[EXPERIMENT_WINDOW_DAYS]
            figures.paid = row.paid[EXPERIMENT_WINDOW_DAYS]
            if figures.n:
                figures.interval = wilson_interval(figures.paid, figures.n)
        result.append(figures)
    return result
