"""Message templates that cannot leak data: Django template syntax over an allowlist of variables.

Three guarantees, each enforced here:
1. Saving: a template may reference only the names `campaigns.variables` allows for its step kind, and only
   harmless tags (no {% load %}, {% include %}, {% debug %} ...). `template_check` names what is wrong.
2. Rendering: the context is built only from the allowlist (`context_from_allowlist`), so even a template
   that slipped past the check has nothing else to reach.
3. SMS: the length is computed as the network counts it (GSM-7 with its extension table, else UCS-2), and
   a body over two SMS parts is refused.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Node, NodeList, TextNode, Variable, VariableNode
from django.template.defaulttags import (
    AutoEscapeControlNode,
    CommentNode,
    CycleNode,
    FilterNode,
    FirstOfNode,
    ForNode,
    IfChangedNode,
    IfNode,
    NowNode,
    SpacelessNode,
    TemplateTagNode,
    WithNode,
)
from django.utils.translation import gettext_lazy as _

from campaigns.variables import allowed_variables

# Plain text everywhere (e-mail text part, SMS, letter paragraphs): no HTML escaping of "&" in names.
# No loaders and no extra libraries: {% include %}/{% extends %} have nothing to load, {% load %} nothing.
ENGINE = Engine(autoescape=False, libraries={}, loaders=[])

ALLOWED_NODES: tuple[type[Node], ...] = (
    TextNode,
    VariableNode,
    IfNode,
    ForNode,
    WithNode,
    CommentNode,
    SpacelessNode,
    AutoEscapeControlNode,
    FirstOfNode,
    CycleNode,
    FilterNode,
    IfChangedNode,
    NowNode,
    TemplateTagNode,
)

SMS_MAX_PARTS = 2
DEFAULT_LANGUAGE = "nl"

# ------------------------------------------------------------------------------------------------- GSM-7

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")  # each costs two septets (escape + char)


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    parts: int
    max_units: int  # for SMS_MAX_PARTS parts
    offending: str = ""  # characters that forced UCS-2

    @property
    def fits(self) -> bool:
        return self.parts <= SMS_MAX_PARTS

    def __str__(self) -> str:
        return f"{self.units} {self.encoding} characters, {self.parts} part(s) (max {self.max_units})"


def sms_length(text: str) -> SmsLength:
    """Length as a network counts it: 160/153 septets per part in GSM-7, else 70/67 UTF-16 units."""
    offending = "".join(sorted({ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION}))
    if not offending:
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi = 160, 153
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = "UCS-2"
    parts = 0 if units == 0 else 1 if units <= single else math.ceil(units / multi)
    return SmsLength(encoding, units, parts, multi * SMS_MAX_PARTS, offending)


# ---------------------------------------------------------------------------------------------- checking


class TemplateCheckError(ValueError):
    pass


def _node_tag(node: Node) -> str:
    token = getattr(node, "token", None)
    contents = getattr(token, "contents", "") or ""
    return contents.split()[0] if contents else type(node).__name__


def _names_in_filter_expression(fe: FilterExpression, local: frozenset[str], found: set[str]) -> None:
    if isinstance(fe.var, Variable) and fe.var.lookups:
        if fe.var.lookups[0] not in local:
            found.add(fe.var.lookups[0])
        for part in fe.var.lookups:
            if part.startswith("_"):
                raise TemplateCheckError(_("Attribute %(name)r is not allowed.") % {"name": part})
    for _func, args in fe.filters:
        for is_variable, arg in args:
            if is_variable and isinstance(arg, Variable) and arg.lookups and arg.lookups[0] not in local:
                found.add(arg.lookups[0])


def _names_in_condition(condition: Any, local: frozenset[str], found: set[str]) -> None:
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        _names_in_filter_expression(value, local, found)
    for side in ("first", "second"):
        child = getattr(condition, side, None)
        if child is not None:
            _names_in_condition(child, local, found)


def _walk(nodelist: NodeList, local: frozenset[str], found: set[str]) -> None:
    for node in nodelist:
        if not isinstance(node, ALLOWED_NODES):
            raise TemplateCheckError(
                _("The tag {%% %(tag)s %%} is not allowed in messages.") % {"tag": _node_tag(node)}
            )
        if isinstance(node, VariableNode):
            _names_in_filter_expression(node.filter_expression, local, found)
        elif isinstance(node, IfNode):
            for condition, body in node.conditions_nodelists:
                if condition is not None:
                    _names_in_condition(condition, local, found)
                _walk(body, local, found)
        elif isinstance(node, ForNode):
            _names_in_filter_expression(node.sequence, local, found)
            _walk(node.nodelist_loop, local | set(node.loopvars) | {"forloop"}, found)
            _walk(node.nodelist_empty, local, found)
        elif isinstance(node, WithNode):
            for value in node.extra_context.values():
                _names_in_filter_expression(value, local, found)
            _walk(node.nodelist, local | set(node.extra_context), found)
        elif isinstance(node, FirstOfNode | CycleNode):
            for value in node.cyclevars if isinstance(node, CycleNode) else node.vars:
                _names_in_filter_expression(value, local, found)
        else:
            for attr in node.child_nodelists:
                child = getattr(node, attr, None)
                if child:
                    _walk(child, local, found)


def template_variables(text: str) -> set[str]:
    """The top-level names a template reads; raises TemplateSyntaxError / TemplateCheckError."""
    template = ENGINE.from_string(text)
    found: set[str] = set()
    _walk(template.nodelist, frozenset(), found)
    return found


def template_check(*, step_kind: str, channel: str, subject: str, body: str) -> None:
    """Raise ValidationError({field: [...]}) naming each syntax error or variable outside the allowlist."""
    allowed = allowed_variables(step_kind)
    errors: dict[str, list[str]] = {}
    for field_name, text in (("subject", subject), ("body", body)):
        if not text:
            continue
        try:
            names = template_variables(text)
        except TemplateSyntaxError as error:
            errors.setdefault(field_name, []).append(_("Template syntax error: %(error)s") % {"error": error})
            continue
        except TemplateCheckError as error:
            errors.setdefault(field_name, []).append(str(error))
            continue
        unknown = sorted(names - allowed)
        if unknown:
            errors.setdefault(field_name, []).append(
                _("Variable(s) not allowed for this step kind: %(names)s. Allowed: %(allowed)s.")
                % {"names": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
            )
    if channel == "sms" and "body" not in errors:
        length = sms_length(render(body, demo_context(step_kind)))
        if not length.fits:
            errors.setdefault("body", []).append(
                _(
                    "With example values this SMS is %(units)s %(encoding)s characters, %(parts)s parts; "
                    "the maximum is %(max)s (two parts).%(hint)s"
                )
                % {
                    "units": length.units,
                    "encoding": length.encoding,
                    "parts": length.parts,
                    "max": length.max_units,
                    "hint": (_(" Characters forcing UCS-2: %(chars)s") % {"chars": length.offending})
                    if length.offending
                    else "",
                }
            )
    if channel == "email" and not subject:
        errors.setdefault("subject", []).append(_("An e-mail needs a subject."))
    if errors:
        raise ValidationError(errors)


# --------------------------------------------------------------------------------------------- rendering


def context_from_allowlist(*, step_kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Only allowlisted names reach a template, whatever the caller computed."""
    allowed = allowed_variables(step_kind)
    return {name: value for name, value in values.items() if name in allowed}


@functools.lru_cache(maxsize=512)
def _compiled(text: str):
    # Compiling costs more than rendering; the dispatcher renders the same few templates thousands of times.
    return ENGINE.from_string(text)


def render(text: str, context: dict[str, Any]) -> str:
    return _compiled(text).render(Context(context, autoescape=False)).strip()


def demo_context(step_kind: str) -> dict[str, Any]:
    """A fictional demo debtor with realistic (long-ish) values, for previews and SMS length checks."""
    claims = [
        {
            "reference": "1234 5678 9012 3456",
            "description": "Gemeentelijke belastingen 2026",
            "open_amount": "€ 312,40",
        },
        {"reference": "2345 6789 0123 4567", "description": "Parkeerbelasting", "open_amount": "€ 65,00"},
    ]
    values = {
        "salutation": "heer Van der Berg",
        "debtor_name": "J.P. van der Berg",
        "postal_address": "Kerkstraat 12 A\n1234 AB Voorbeeld",
        "claim_reference": "1234 5678 9012 3456",
        "claim_description": "Gemeentelijke belastingen 2026",
        "claim_kind": "OZB",
        "principal": "€ 312,40",
        "open_amount": "€ 312,40",
        "costs_amount": "€ 0,00",
        "total_due": "€ 312,40",
        "issued_date": "28 februari 2026",
        "due_date": "30 maart 2026",
        "pay_before": "14 april 2026",
        "term_days": 14,
        "costs_if_unpaid": "€ 9,00",
        "claims": claims,
        "payment_link": "https://example.nl/betalen?kenmerk=1234567890123456&bedrag=312.40",
        "municipality_name": "Gemeente Voorbeeld",
        "municipality_phone": "14 020",
        "municipality_email": "belastingen@example.nl",
        "municipality_address": "Postbus 1234, 1000 AB Voorbeeld",
        "municipality_iban": "NL91ABNA0417164300",
        "debt_help_contact": "Schuldhulp Voorbeeld, 14 020, www.example.nl/schuldhulp",
    }
    return context_from_allowlist(step_kind=step_kind, values=values)


def render_preview(*, step_kind: str, subject: str, body: str) -> tuple[str, str]:
    context = demo_context(step_kind)
    return render(subject, context) if subject else "", render(body, context)
