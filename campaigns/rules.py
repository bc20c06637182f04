"""Segment rules: the attribute allowlist, validation, and compilation to ORM expressions.

A segment's rules are a list of conditions that must all hold, e.g.
`[{"attribute": "on_time_share_24m", "operator": "gte", "value": 0.9}]`.

This module declares the attributes as data. It does not compute them: `dunning.selectors.segments`
annotates a queryset with one annotation per attribute (named `<prefix><attribute>`), and the Q objects
compiled here filter over those annotations. That keeps segment assignment set-based (one SQL query
decides the segment of a whole batch of claims) while campaigns stays ignorant of the engine.
"""

from __future__ import annotations

import operator as op
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

ATTRIBUTE_PREFIX = "seg_"

NUMERIC_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in")
EQUALITY_OPERATORS = ("eq", "ne", "in")
BOOLEAN_OPERATORS = ("eq", "ne")

_OPERATORS = {"eq": op.eq, "ne": op.ne, "lt": op.lt, "lte": op.le, "gt": op.gt, "gte": op.ge}

OPERATOR_LABELS = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "lte": "≤",
    "gt": ">",
    "gte": "≥",
    "in": "in",
}


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # "float", "int", "decimal", "str", "bool"
    description: str
    choices: tuple[str, ...] = ()
    operators: tuple[str, ...] = field(default=NUMERIC_OPERATORS)


ATTRIBUTES: dict[str, Attribute] = {
    a.name: a
    for a in (
        Attribute(
            "on_time_share_24m",
            "float",
            "Share (0..1) of the debtor's paid claims due in the last 24 months that were paid on or before "
            "the due date; empty without such history. Claims still open do not count (their outcome is unknown).",
        ),
        Attribute("reminders_needed_24m", "int", "Messages sent to the debtor in the last 24 months."),
        Attribute(
            "avg_days_late_24m",
            "float",
            "Average days between due date and payment (0 when on time) over the paid claims due in the last "
            "24 months; empty without such history.",
        ),
        Attribute("open_amount", "decimal", "Total still open over all the debtor's open claims, in euro."),
        Attribute(
            "claim_kind",
            "str",
            "Kind of the claim being dunned (ozb, afvalstoffenheffing, rioolheffing, parking, rent, other).",
            operators=EQUALITY_OPERATORS,
        ),
        Attribute("language", "str", "Debtor's language.", choices=("nl", "en"), operators=EQUALITY_OPERATORS),
        Attribute(
            "debtor_kind",
            "str",
            "Person or organisation.",
            choices=("person", "organisation"),
            operators=EQUALITY_OPERATORS,
        ),
        Attribute(
            "has_active_care_flag",
            "bool",
            "The debtor has an active care flag (self-declared need for help, debt assistance).",
            operators=BOOLEAN_OPERATORS,
        ),
    )
}


def _coerce_scalar(attribute: Attribute, value: Any, where: str) -> Any:
    """Check one value's type for `attribute`; return it in the type used for comparison."""
    kind = attribute.type
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValidationError(
                _("%(where)s: %(attr)s needs true or false, not %(value)r."),
                params={"where": where, "attr": attribute.name, "value": value},
                code="value_type",
            )
        return value
    if kind in ("float", "int", "decimal"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError(
                _("%(where)s: %(attr)s needs a number, not %(value)r."),
                params={"where": where, "attr": attribute.name, "value": value},
                code="value_type",
            )
        if kind == "int":
            if (isinstance(value, float) and not value.is_integer()) or isinstance(value, str):
                raise ValidationError(
                    _("%(where)s: %(attr)s needs a whole number, not %(value)r."),
                    params={"where": where, "attr": attribute.name, "value": value},
                    code="value_type",
                )
            return int(value)
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValidationError(
                _("%(where)s: %(attr)s needs a number, not %(value)r."),
                params={"where": where, "attr": attribute.name, "value": value},
                code="value_type",
            )
        if not number.is_finite():
            raise ValidationError(
                _("%(where)s: %(attr)s needs a finite number."), params={"where": where, "attr": attribute.name}
            )
        return number if kind == "decimal" else float(number)
    # str
    if not isinstance(value, str):
        raise ValidationError(
            _("%(where)s: %(attr)s needs text, not %(value)r."),
            params={"where": where, "attr": attribute.name, "value": value},
            code="value_type",
        )
    if attribute.choices and value not in attribute.choices:
        raise ValidationError(
            _("%(where)s: %(value)r is not a valid %(attr)s; choose from %(choices)s."),
            params={"where": where, "attr": attribute.name, "value": value, "choices": ", ".join(attribute.choices)},
            code="value_choice",
        )
    return value


def validate_rules(rules: Any) -> list[dict]:
    """Validate a rules list; raise ValidationError naming each bad condition; return the normalised list."""
    if rules in (None, ""):
        return []
    if not isinstance(rules, list):
        raise ValidationError(_("Rules must be a list of conditions."), code="not_a_list")
    errors: list[ValidationError] = []
    normalised: list[dict] = []
    for index, condition in enumerate(rules, start=1):
        where = _("Condition %(n)s") % {"n": index}
        if not isinstance(condition, dict) or set(condition) - {"attribute", "operator", "value"}:
            errors.append(
                ValidationError(
                    _("%(where)s must be an object with attribute, operator and value."),
                    params={"where": where},
                    code="shape",
                )
            )
            continue
        name = condition.get("attribute")
        attribute = ATTRIBUTES.get(name)
        if attribute is None:
            errors.append(
                ValidationError(
                    _("%(where)s: unknown attribute %(name)r; allowed are %(allowed)s."),
                    params={"where": where, "name": name, "allowed": ", ".join(ATTRIBUTES)},
                    code="unknown_attribute",
                )
            )
            continue
        operator = condition.get("operator")
        if operator not in attribute.operators:
            errors.append(
                ValidationError(
                    _("%(where)s: operator %(op)r does not apply to %(name)s; use one of %(allowed)s."),
                    params={"where": where, "op": operator, "name": name, "allowed": ", ".join(attribute.operators)},
                    code="wrong_operator",
                )
            )
            continue
        if "value" not in condition:
            errors.append(ValidationError(_("%(where)s: value is missing."), params={"where": where}, code="no_value"))
            continue
        value = condition["value"]
        try:
            if operator == "in":
                if not isinstance(value, list) or not value:
                    raise ValidationError(
                        _("%(where)s: operator 'in' needs a non-empty list of values."),
                        params={"where": where},
                        code="value_type",
                    )
                for item in value:
                    _coerce_scalar(attribute, item, where)
            else:
                _coerce_scalar(attribute, value, where)
        except ValidationError as error:
            errors.append(error)
            continue
        normalised.append({"attribute": name, "operator": operator, "value": value})
    if errors:
        raise ValidationError(errors)
    return normalised


def compile_condition(condition: dict, *, prefix: str = ATTRIBUTE_PREFIX) -> Q:
    attribute = ATTRIBUTES[condition["attribute"]]
    operator = condition["operator"]
    column = f"{prefix}{attribute.name}"
    if operator == "in":
        values = [_coerce_scalar(attribute, item, "") for item in condition["value"]]
        return Q(**{f"{column}__in": values})
    value = _coerce_scalar(attribute, condition["value"], "")
    if operator == "eq":
        return Q(**{column: value})
    if operator == "ne":
        # NULL (e.g. no history) is "not equal" too; SQL would otherwise drop it silently.
        return ~Q(**{column: value}) | Q(**{f"{column}__isnull": True})
    return Q(**{f"{column}__{operator}": value})


def compile_rules(rules: list[dict], *, prefix: str = ATTRIBUTE_PREFIX) -> Q:
    """All conditions must hold; an empty list matches everyone."""
    query = Q()
    for condition in rules:
        query &= compile_condition(condition, prefix=prefix)
    return query


def segment_case(segments, *, prefix: str = ATTRIBUTE_PREFIX) -> Case | Value:
    """One expression choosing the segment id: first match by priority wins, the default catches the rest.

    `segments` must be ordered by priority (Segment's default ordering). Inactive segments are skipped.
    """
    whens = []
    default_id = None
    for segment in segments:
        if not segment.is_active:
            continue
        if segment.is_default:
            default_id = segment.pk
            continue
        whens.append(When(compile_rules(segment.rules, prefix=prefix), then=Value(segment.pk)))
    default = Value(default_id, output_field=IntegerField())
    if not whens:
        return default
    return Case(*whens, default=default, output_field=IntegerField())


def attributes_used(rules: list[dict]) -> set[str]:
    return {condition["attribute"] for condition in rules}


# ---------------------------------------------------------------------------------------------- explain


@dataclass(frozen=True)
class ConditionResult:
    attribute: str
    operator: str
    value: Any
    actual: Any
    matched: bool

    def __str__(self) -> str:
        mark = "✓" if self.matched else "✗"
        return f"{mark} {self.attribute} {OPERATOR_LABELS[self.operator]} {self.value!r} (actual: {self.actual!r})"


@dataclass(frozen=True)
class SegmentResult:
    segment: Any
    conditions: list[ConditionResult]
    matched: bool


@dataclass(frozen=True)
class Explanation:
    values: dict[str, Any]
    tried: list[SegmentResult]
    chosen: Any  # Segment or None

    @property
    def chosen_result(self) -> SegmentResult | None:
        for result in self.tried:
            if result.segment == self.chosen:
                return result
        return None


def evaluate_condition(condition: dict, actual: Any) -> bool:
    """The Python mirror of `compile_condition`, used only to explain one debtor to a person."""
    attribute = ATTRIBUTES[condition["attribute"]]
    operator = condition["operator"]
    if operator == "in":
        if actual is None:
            return False
        values = [_coerce_scalar(attribute, item, "") for item in condition["value"]]
        return _comparable(attribute, actual) in values
    value = _coerce_scalar(attribute, condition["value"], "")
    if actual is None:
        return operator == "ne"
    return _OPERATORS[operator](_comparable(attribute, actual), value)


def _comparable(attribute: Attribute, actual: Any) -> Any:
    if attribute.type == "decimal":
        return Decimal(str(actual))
    if attribute.type == "float":
        return float(actual)
    if attribute.type == "int":
        return int(actual)
    if attribute.type == "bool":
        return bool(actual)
    return actual


def explain(values: dict[str, Any], segments) -> Explanation:
    """Which segment applies to a debtor with these attribute values, and why (condition by condition).

    `values` maps attribute names to the values the SQL computed (see dunning.selectors.segments).
    """
    tried: list[SegmentResult] = []
    chosen = None
    default = None
    for segment in segments:
        if not segment.is_active:
            continue
        if segment.is_default:
            default = segment
            continue
        results = [
            ConditionResult(
                attribute=c["attribute"],
                operator=c["operator"],
                value=c["value"],
                actual=values.get(c["attribute"]),
                matched=evaluate_condition(c, values.get(c["attribute"])),
            )
            for c in segment.rules
        ]
        matched = all(r.matched for r in results)
        tried.append(SegmentResult(segment=segment, conditions=results, matched=matched))
        if matched:
            chosen = segment
            break
    if chosen is None and default is not None:
        tried.append(SegmentResult(segment=default, conditions=[], matched=True))
        chosen = default
    return Explanation(values=values, tried=tried, chosen=chosen)
