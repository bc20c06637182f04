"""The segment attributes campaigns declares (campaigns.rules.ATTRIBUTES), computed set-based in SQL.

Every attribute is one annotation named `seg_<attribute>` (correlated subqueries and aggregates), so a
segment's compiled rules filter a whole batch of claims (or debtors) in one query: nothing is decided
one debtor at a time in Python. `segment_explain` reads the same annotations for one debtor, so what a
clerk sees is exactly what the planner used.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
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
)
from django.db.models.functions import Cast, Coalesce, Greatest, TruncDate
from django.utils import timezone

from campaigns.models import Segment
from campaigns.rules import ATTRIBUTE_PREFIX, ATTRIBUTES, Explanation, explain, segment_case
from customers.models import CareFlag, Debtor
from dunning.models import MONEY, Claim, Message

HISTORY_DAYS = 730  # "24 months"
CHOSEN_SEGMENT = "chosen_segment_id"


class DaysBetween(Func):
    """Whole days from `start` to `end` (two dates), on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL: date - date is an integer
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        return f"(({end_sql})::date - ({start_sql})::date)", [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra):
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        return f"(julianday({end_sql}) - julianday({start_sql}))", [*end_params, *start_params]


def _history(debtor_ref, today: date) -> QuerySet:
    return Claim.objects.filter(
        debtor_id=debtor_ref,
        due_on__gte=today - timedelta(days=HISTORY_DAYS),
        due_on__lte=today,
        status=Claim.Status.PAID,
    )


def _aggregate(queryset: QuerySet, expression, output_field):
    return Subquery(
        queryset.order_by().values("debtor_id").annotate(result=expression).values("result")[:1],
        output_field=output_field,
    )


def segment_annotations(*, now: datetime, on: str = "claim", prefix: str = ATTRIBUTE_PREFIX) -> dict:
    """Annotation expressions for every attribute in campaigns.rules.ATTRIBUTES.

    `on="claim"` for Claim querysets (claim_kind is the claim's kind), `on="debtor"` for Debtor querysets
    (claim_kind is the kind of the debtor's oldest open claim).
    """
    today = timezone.localdate(now)
    debtor_ref = OuterRef("debtor_id") if on == "claim" else OuterRef("pk")
    debtor_path = "debtor__" if on == "claim" else ""
    history = _history(debtor_ref, today)
    on_time = Q(settled_at__date__lte=F("due_on"))
    days_late = Greatest(
        DaysBetween(TruncDate("settled_at"), F("due_on")),
        Value(0.0),
    )
    if on == "claim":
        claim_kind = F("kind")
    else:
        claim_kind = Subquery(
            Claim.objects.filter(debtor_id=debtor_ref, status=Claim.Status.OPEN)
            .order_by("due_on", "id")
            .values("kind")[:1]
        )
    expressions = {
        "on_time_share_24m": _aggregate(
            history,
            Cast(Count("pk", filter=on_time), FloatField()) / Cast(Count("pk"), FloatField()),
            FloatField(),
        ),
        "reminders_needed_24m": Coalesce(
            Subquery(
                Message.objects.filter(claim__debtor_id=debtor_ref, sent_at__gte=now - timedelta(days=HISTORY_DAYS))
                .exclude(status=Message.Status.BUNDLED)
                .order_by()
                .values("claim__debtor_id")
                .annotate(result=Count("pk"))
                .values("result")[:1]
            ),
            0,
        ),
        "avg_days_late_24m": _aggregate(history, Avg(days_late), FloatField()),
        "open_amount": Coalesce(
            _aggregate(
                Claim.objects.filter(debtor_id=debtor_ref, status=Claim.Status.OPEN),
                Sum("open_amount"),
                DecimalField(**MONEY),
            ),
            Value(Decimal("0.00")),
            output_field=DecimalField(**MONEY),
        ),
        "claim_kind": claim_kind,
        "language": F(f"{debtor_path}language"),
        "debtor_kind": F(f"{debtor_path}kind"),
        "has_active_care_flag": Exists(
            CareFlag.objects.filter(CareFlag.active_q(today), debtor_id=debtor_ref),
        ),
    }
    assert set(expressions) == set(ATTRIBUTES), "every declared attribute needs an implementation"
    return {f"{prefix}{name}": expression for name, expression in expressions.items()}


def active_segments() -> list[Segment]:
    return list(Segment.objects.filter(is_active=True).order_by("priority", "id"))


def claims_with_segment(queryset: QuerySet, *, now: datetime, segments: list[Segment] | None = None) -> QuerySet:
    """Annotate a Claim queryset with the attributes and `chosen_segment_id` (one SQL query, no loop)."""
    segments = active_segments() if segments is None else segments
    return queryset.annotate(**segment_annotations(now=now, on="claim")).annotate(
        **{CHOSEN_SEGMENT: segment_case(segments)}
    )


def debtors_with_segment(queryset: QuerySet, *, now: datetime, segments: list[Segment] | None = None) -> QuerySet:
    segments = active_segments() if segments is None else segments
    return queryset.annotate(**segment_annotations(now=now, on="debtor")).annotate(
        **{CHOSEN_SEGMENT: segment_case(segments)}
    )


def segment_values(*, debtor: Debtor, now: datetime, claim: Claim | None = None) -> tuple[dict, int | None]:
    """The attribute values for one debtor (or one of its claims) and the segment id SQL chose."""
    segments = active_segments()
    if claim is not None:
        row = claims_with_segment(Claim.objects.filter(pk=claim.pk), now=now, segments=segments)
    else:
        row = debtors_with_segment(Debtor.objects.filter(pk=debtor.pk), now=now, segments=segments)
    names = [f"{ATTRIBUTE_PREFIX}{name}" for name in ATTRIBUTES]
    values = row.values(*names, CHOSEN_SEGMENT).get()
    chosen = values.pop(CHOSEN_SEGMENT)
    return {name.removeprefix(ATTRIBUTE_PREFIX): value for name, value in values.items()}, chosen


def segment_explain(*, debtor: Debtor, now: datetime, claim: Claim | None = None) -> Explanation:
    """Which segment applies to `debtor` and which conditions matched, with the values used.

    The values come from the same SQL the planner uses; the condition-by-condition verdict mirrors the
    compiled rules in Python, and `explanation.chosen` is checked against the SQL's choice.
    """
    values, chosen_id = segment_values(debtor=debtor, now=now, claim=claim)
    explanation = explain(values, active_segments())
    chosen_pk = explanation.chosen.pk if explanation.chosen else None
    if chosen_pk != chosen_id:  # pragma: no cover - would mean the two evaluations disagree
        raise AssertionError(f"segment explanation chose {chosen_pk}, SQL chose {chosen_id}")
    return explanation


def segment_sizes(*, now: datetime) -> dict[int | None, int]:
    """Debtors with an open claim per segment id, in one grouped query (for the segment admin)."""
    rows = (
        debtors_with_segment(Debtor.objects.filter(claims__status=Claim.Status.OPEN).distinct(), now=now)
        .values(CHOSEN_SEGMENT)
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    return {row[CHOSEN_SEGMENT]: row["n"] for row in rows}
