"""Reads for compliance: the audit trail by debtor, the art. 15 export, the register of processing, minimisation."""

from __future__ import annotations

import dataclasses
import importlib
import re
from datetime import datetime

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.template.base import Lexer
from django.utils import timezone

from compliance.audit import AUDITED_MODELS, PERSONAL_FIELDS
from compliance.models import RetentionRule
from customers.models import Debtor

# --- audit trail -------------------------------------------------------------------------------------


def debtor_entries_q(debtor_id: int) -> Q:
    """Entries on the debtor row itself plus every entry tagged with them (claims, payments, messages...)."""
    debtor_type = ContentType.objects.get_for_model(Debtor)
    return Q(content_type=debtor_type, object_id=debtor_id) | Q(additional_data__debtor_id=debtor_id)


def audit_entries(
    *,
    debtor_id: int | None = None,
    actor_id: int | None = None,
    model: str | None = None,
    action: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> models.QuerySet:
    entries = LogEntry.objects.select_related("content_type", "actor")
    if debtor_id is not None:
        entries = entries.filter(debtor_entries_q(debtor_id))
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    if model:
        app_label, model_name = model.lower().split(".")
        entries = entries.filter(content_type__app_label=app_label, content_type__model=model_name)
    if action is not None:
        entries = entries.filter(action=action)
    if since is not None:
        entries = entries.filter(timestamp__gte=since)
    if until is not None:
        entries = entries.filter(timestamp__lt=until)
    return entries.order_by("-timestamp", "-id")


def actor_role(user) -> str:
    """What a person reading an export learns about who acted: the role, not the employee's name."""
    if user is None:
        return "system"
    if user.username == settings.SYSTEM_USERNAME:
        return "system"
    roles = sorted(group.name for group in user.groups.all())
    if user.is_superuser:
        roles.append("administrator")
    return ", ".join(roles) or "staff"


def entry_summary(entry: LogEntry) -> str:
    """One line for lists and CSV: field names changed, or the bulk reason; never values."""
    data = entry.additional_data or {}
    if data.get("bulk"):
        return f"{data.get('count')} rows: {data.get('reason', '')}"
    if entry.action == LogEntry.Action.ACCESS:
        return "viewed"
    return ", ".join(sorted((entry.changes or {}).keys()))


# --- art. 15 export ----------------------------------------------------------------------------------


def row(obj: models.Model | None) -> dict | None:
    """Every concrete field of a row, by field name (foreign keys as ids, files as their stored name)."""
    if obj is None:
        return None
    data = {}
    for field in obj._meta.concrete_fields:
        value = field.value_from_object(obj)
        if isinstance(field, models.FileField):
            value = value.name if value else ""
        data[field.name] = value
    return data


def _children(obj: models.Model, *, skip: tuple[type, ...] = ()) -> dict:
    """Rows of every model that points at `obj` (reverse foreign keys), found from the models' metadata,
    so a model another app adds later is exported too."""
    data = {}
    for relation in obj._meta.related_objects:
        related = relation.related_model
        if relation.hidden or related is type(obj) or related is LogEntry or related in skip:
            continue
        accessor = relation.get_accessor_name()
        if relation.one_to_many:
            data[accessor] = [row(child) for child in getattr(obj, accessor).all()]
        elif relation.one_to_one:
            data[accessor] = row(getattr(obj, accessor, None)) if hasattr(obj, accessor) else None
    return data


def subject_export(*, debtor: Debtor, actor=None) -> dict:
    """Everything held on one person, machine-readable (GDPR art. 15, art. 20).

    Writes an access entry for the debtor (the export is itself a use of their data).
    """
    from compliance.services import access_record
    from dunning.models import Claim, Message

    access_record(instance=debtor, actor=actor)
    claims_out = []
    for claim in Claim.objects.filter(debtor=debtor).order_by("issued_on", "id"):
        children = _children(claim)
        children["messages"] = [
            {**row(message), "events": [row(event) for event in message.events.all()]}
            for message in Message.objects.filter(claim=claim).prefetch_related("events").order_by("created_at", "id")
        ]
        claims_out.append({**row(claim), **children})
    trail = audit_entries(debtor_id=debtor.pk).prefetch_related("actor__groups")
    register = register_of_processing()
    return {
        "format": "dunning-subject-export/1",
        "generated_at": timezone.now().isoformat(),
        "controller": settings.MUNICIPALITY["name"],
        "debtor": row(debtor),
        **_children(debtor, skip=(Claim,)),
        "claims": claims_out,
        "segments": segment_explanation(debtor=debtor),
        "audit_trail": [
            {
                "timestamp": entry.timestamp.isoformat(),
                "action": str(entry.get_action_display()),
                "object": f"{entry.content_type.app_label}.{entry.content_type.model}",
                "object_id": entry.object_pk,
                "fields_changed": sorted((entry.changes or {}).keys()),
                "by": actor_role(entry.actor),
            }
            for entry in trail
        ],
        "processing": {key: register[key] for key in ("purposes", "recipients", "retention", "not_stored")},
    }


def _explain_function():
    """The engine's segment explanation, when one exists (its module belongs to another part of the system)."""
    for module_name in ("dunning.selectors.segments", "campaigns.rules"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in ("segment_explain", "explain_segment", "explain", "debtor_segment_explain"):
            function = getattr(module, name, None)
            if callable(function):
                return function
    return None


def _plain(value):
    """Dataclasses, models and containers made JSON-friendly (models by their name, not their fields)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def segment_explanation(*, debtor: Debtor) -> dict:
    """Why the debtor is in a segment: the engine's own explanation if it offers one, and the segments
    (with purpose, rules and version) that chose each message sent to them."""
    from campaigns.models import Segment
    from dunning.models import Message

    explanation = None
    function = _explain_function()
    if function is not None:
        try:
            explanation = function(debtor=debtor, now=timezone.now())
        except TypeError:
            try:
                explanation = function(debtor=debtor)
            except Exception as error:  # the export must not fail on another part's change
                explanation = {"error": f"{type(error).__name__}"}
        except Exception as error:
            explanation = {"error": f"{type(error).__name__}"}
        explanation = _plain(explanation)
    used = (
        Message.objects.filter(claim__debtor=debtor, segment__isnull=False)
        .values_list("segment_id", "segment_version")
        .distinct()
    )
    segments = {s.pk: s for s in Segment.objects.filter(pk__in={pk for pk, _ in used})}
    return {
        "current": explanation,
        "used_for_messages": [
            {
                "segment": segments[pk].name,
                "purpose": segments[pk].purpose,
                "rules_now": segments[pk].rules,
                "version_used": version,
                "version_now": segments[pk].version,
            }
            for pk, version in used
            if pk in segments
        ],
    }


# --- register of processing (art. 30) ---------------------------------------------------------------

_RECIPIENT_NAMES = {
    "anymail.backends.": "E-mail service provider (ESP) via django-anymail",
    "django.core.mail.backends.smtp": "Own SMTP server",
    "django.core.mail.backends.console": "None (development: e-mail printed to the console)",
    "anymail.backends.test": "None (test backend)",
}


def _describe_backend(path: str, fallback: str) -> str:
    for prefix, name in _RECIPIENT_NAMES.items():
        if path.startswith(prefix):
            if prefix == "anymail.backends.":
                return f"{name}: {path.split('.')[2]}"
            return name
    return f"{fallback}: {path}"


def personal_data_categories() -> list[dict]:
    """Categories of personal data, read from the audited models' own field definitions."""
    from django.apps import apps

    categories = []
    for label in AUDITED_MODELS:
        model = apps.get_model(label)
        personal = PERSONAL_FIELDS.get(label, ())
        if not personal:
            continue
        categories.append(
            {
                "model": label,
                "name": str(model._meta.verbose_name_plural),
                "fields": [
                    {"field": f.name, "label": str(f.verbose_name)}
                    for f in model._meta.concrete_fields
                    if f.name in personal
                ],
            }
        )
    return categories


def register_of_processing() -> dict:
    """GDPR art. 30(1): generated from the system's own configuration, so it cannot drift from it."""
    from campaigns.models import Segment

    purposes = [
        {
            "name": "Invordering (dunning)",
            "purpose": "Collecting amounts owed to the municipality: reminders, formal reminders (aanmaningen), "
            "escalation proposals approved by a person, matching payments.",
            "legal_basis": "Art. 6(1)(c) and (e) GDPR: legal obligation and public task (Invorderingswet 1990, "
            "Awb title 4.4, art. 6:96 BW for private-law claims).",
        }
    ]
    for segment in Segment.objects.filter(is_active=True).order_by("priority", "id"):
        purposes.append(
            {
                "name": f"Segment: {segment.name}",
                "purpose": segment.purpose,
                "rules": segment.rules,
                "legal_basis": "Art. 6(1)(e) GDPR: group-level choice of tone, channel and timing within the "
                "public task; no decision with legal effect (art. 22: escalations are approved by a person).",
            }
        )
    recipients = [
        {"recipient": _describe_backend(settings.EMAIL_BACKEND, "E-mail backend"), "data": "e-mail address, message"},
        {"recipient": f"SMS provider: {settings.SMS_BACKEND}", "data": "mobile number, message"},
        {
            "recipient": getattr(settings, "PRINT_HOUSE_NAME", "Print house (letters, daily print batch)"),
            "data": "name, postal address, letter",
        },
        {
            "recipient": "Payment provider: Mollie (iDEAL)"
            + ("" if settings.MOLLIE_API_KEY else " (not configured on this installation)"),
            "data": "payment reference, amount; the payer's bank details come back with the payment",
        },
    ]
    retention = [
        {
            "category": rule.get_category_display(),
            "action": rule.get_action_display(),
            "period": rule.period_display,
            "starts_from": rule.starts_from,
            "legal_basis": rule.legal_basis,
        }
        for rule in RetentionRule.objects.filter(is_active=True)
    ]
    return {
        "controller": {
            "name": settings.MUNICIPALITY["name"],
            "address": settings.MUNICIPALITY["address"],
            "email": settings.MUNICIPALITY["email"],
        },
        "purposes": purposes,
        "data_subjects": ["Debtors: residents and organisations (their contact persons) owing the municipality"],
        "personal_data": personal_data_categories(),
        "not_stored": ["Citizen service number (BSN): see docs/privacy.md"],
        "recipients": recipients,
        "transfers_outside_eea": "Only if the configured ESP or SMS provider processes outside the EEA; "
        "check its data-processing agreement.",
        "retention": retention,
        "security": [
            "Role-based access (Clerk, Team lead, Compliance officer)",
            "Audit trail of every change and access, personal values masked",
            "Retention rules applied daily (purge_expired)",
        ],
    }


def register_rows(register: dict) -> list[tuple[str, str, str]]:
    """The register flattened to (section, item, detail) rows for CSV."""
    rows = [("controller", register["controller"]["name"], register["controller"]["address"])]
    rows += [("purpose", p["name"], f"{p['purpose']} | {p['legal_basis']}") for p in register["purposes"]]
    rows += [
        ("personal data", c["name"], ", ".join(f["label"] for f in c["fields"])) for c in register["personal_data"]
    ]
    rows += [("recipient", r["recipient"], r["data"]) for r in register["recipients"]]
    rows += [
        ("retention", r["category"], f"{r['action']} after {r['period']} ({r['starts_from']}) | {r['legal_basis']}")
        for r in register["retention"]
    ]
    rows += [("not stored", item, "") for item in register["not_stored"]]
    return rows


# --- data minimisation -------------------------------------------------------------------------------

_NAME = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*)")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "None", "True", "False", "as", "with", "only", "reversed"})


def template_variables(*texts: str) -> set[str]:
    """Names a Django template refers to (first part of each variable, in {{ }} and in tag arguments)."""
    names: set[str] = set()
    for text in texts:
        for token in Lexer(text or "").tokenize():
            if token.token_type.name not in ("VAR", "BLOCK"):
                continue
            contents = _QUOTED.sub("", token.contents)
            if token.token_type.name == "BLOCK":
                contents = contents.partition(" ")[2]
            # Filters' names follow a '|'; only what precedes the first '|' in each piece is a variable.
            for piece in re.split(r"\s+", contents):
                head = piece.split("|")[0]
                for match in _NAME.finditer(head):
                    if match.group(1) not in _KEYWORDS:
                        names.add(match.group(1))
                    break
    return names


def template_minimisation(template) -> dict:
    """Which allowlisted variables a template uses, which are personal, and any not allowed for its step kind."""
    from campaigns.variables import ALLOWED_BY_STEP_KIND, VARIABLES, personal_variables

    try:  # the campaigns app's own parser (walks the node tree, knows loop variables), when present
        from campaigns.templating import template_variables as campaigns_variables

        used = set()
        for text in (template.subject, template.body):
            used |= campaigns_variables(text) if text else set()
    except Exception:
        used = template_variables(template.subject, template.body)
    used &= set(VARIABLES)
    allowed = ALLOWED_BY_STEP_KIND.get(template.step_kind, frozenset())
    return {
        "used": sorted(used),
        "personal": personal_variables(used),
        "not_allowed": sorted(used - allowed),
    }
