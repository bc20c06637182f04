"""Writes on segments and templates: validated, and versioned so every message can say what chose it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from campaigns.models import MessageTemplate, Segment
from campaigns.rules import validate_rules
from campaigns.templating import template_check

_SEGMENT_FIELDS = {"name", "purpose", "rules", "priority", "is_default", "is_active"}
_TEMPLATE_FIELDS = {"step_kind", "tone", "channel", "language", "subject", "body", "is_active"}
# A change to any of these means recipients may read something different: a new version.
_TEMPLATE_CONTENT = {"step_kind", "subject", "body"}


def segment_create(*, name: str, purpose: str, rules: list | None = None, priority: int = 100,
                   is_default: bool = False, is_active: bool = True, actor=None) -> Segment:  # fmt: skip
    segment = Segment(
        name=name,
        purpose=purpose,
        rules=validate_rules(rules or []),
        priority=priority,
        is_default=is_default,
        is_active=is_active,
    )
    segment.full_clean()
    segment.save()
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, actor=None, **changes: Any) -> Segment:
    """Apply `changes`; a change of the rules bumps `version` (messages record which version chose them)."""
    unknown = set(changes) - _SEGMENT_FIELDS
    if unknown:
        raise TypeError(f"segment_update got unexpected fields: {', '.join(sorted(unknown))}")
    if "rules" in changes:
        changes["rules"] = validate_rules(changes["rules"])
    stored = Segment.objects.select_for_update().get(pk=segment.pk)
    rules_changed = "rules" in changes and changes["rules"] != stored.rules
    for name, value in changes.items():
        setattr(segment, name, value)
    segment.full_clean()
    segment.save(update_fields=[*changes, "updated_at"] if changes else None)
    if rules_changed:
        Segment.objects.filter(pk=segment.pk).update(version=F("version") + 1)
        segment.refresh_from_db(fields=["version"])
    return segment


def template_create(*, step_kind: str, tone: str, channel: str, language: str, subject: str, body: str,
                    is_active: bool = True, actor=None) -> MessageTemplate:  # fmt: skip
    template_check(step_kind=step_kind, channel=channel, subject=subject, body=body)
    template = MessageTemplate(
        step_kind=step_kind,
        tone=tone,
        channel=channel,
        language=language,
        subject=subject,
        body=body,
        is_active=is_active,
    )
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_update(*, template: MessageTemplate, actor=None, **changes: Any) -> MessageTemplate:
    """Validate against the allowlist; a change of content bumps `version` (messages record it)."""
    unknown = set(changes) - _TEMPLATE_FIELDS
    if unknown:
        raise TypeError(f"template_update got unexpected fields: {', '.join(sorted(unknown))}")
    stored = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    for name, value in changes.items():
        setattr(template, name, value)
    template_check(step_kind=template.step_kind, channel=template.channel, subject=template.subject, body=template.body)
    template.full_clean()
    content_changed = any(getattr(stored, name) != getattr(template, name) for name in _TEMPLATE_CONTENT)
    if content_changed:
        template.version = stored.version + 1
    template.save()
    return template
