"""What happened to a message after it left: delivery events, hard bounces and the next channel.

`delivery_event_record` is called by the anymail tracking-webhook receiver (dunning.webhooks) and may be
called by SMS delivery reports. It is idempotent (a re-posted webhook changes nothing). A hard bounce
marks the address invalid (Debtor.email_invalid_since / phone_invalid_since) and plans the same step again
on the next channel, as a new Message with fallback_for=<the bounced message>.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import StepOverride, Tone
from customers.models import Channel, ChannelPreference, Debtor
from dunning.channels.choice import choose_channel
from dunning.channels.render import template_lookup
from dunning.models import Claim, DeliveryEvent, Message
from dunning.windows import next_send_time

logger = logging.getLogger(__name__)

# anymail's normalised event types -> ours.
EVENT_KINDS = {
    "queued": DeliveryEvent.Kind.QUEUED,
    "sent": DeliveryEvent.Kind.SENT,
    "delivered": DeliveryEvent.Kind.DELIVERED,
    "deferred": DeliveryEvent.Kind.DEFERRED,
    "bounced": DeliveryEvent.Kind.BOUNCED,
    "rejected": DeliveryEvent.Kind.REJECTED,
    "failed": DeliveryEvent.Kind.FAILED,
    "complained": DeliveryEvent.Kind.COMPLAINED,
    "unsubscribed": DeliveryEvent.Kind.UNSUBSCRIBED,
    "opened": DeliveryEvent.Kind.OPENED,
    "clicked": DeliveryEvent.Kind.CLICKED,
}


def message_for_provider_id(provider_id: str | None) -> Message | None:
    """ESPs quote their id with or without angle brackets (Brevo's Message-ID); accept both."""
    if not provider_id:
        return None
    bare = provider_id.strip().strip("<>")
    candidates = {provider_id, bare, f"<{bare}>"}
    return Message.objects.filter(provider_id__in=candidates).select_related("claim__debtor", "step").first()


def contact_mark_invalid(*, debtor: Debtor, channel: str, moment: datetime) -> bool:
    """Mark the e-mail address or phone number invalid (first bounce wins). True when it changed."""
    field = {Channel.EMAIL: "email_invalid_since", Channel.SMS: "phone_invalid_since"}.get(channel)
    if field is None:
        return False
    updated = Debtor.objects.filter(pk=debtor.pk, **{f"{field}__isnull": True}).update(**{field: moment})
    if updated:
        setattr(debtor, field, moment)
    return bool(updated)


def message_fallback_plan(*, message: Message, now: datetime) -> Message | None:
    """Plan `message`'s step again on the next channel; None when the claim needs nothing any more."""
    from dunning.services.dispatch import claim_blocked_reason

    with transaction.atomic():
        claim = Claim.objects.select_for_update().select_related("debtor").get(pk=message.claim_id)
        if claim_blocked_reason(claim=claim, now=now):
            return None
        existing = Message.objects.filter(fallback_for=message).first()
        if existing is not None:
            return existing
        debtor = claim.debtor
        preference = ChannelPreference.objects.filter(debtor=debtor).first()
        step = message.step
        override = (
            StepOverride.objects.filter(step=step, segment_id=message.segment_id).first()
            if message.segment_id
            else None
        )
        allowed = override.channels if override and override.channels else step.channels
        channel = choose_channel(debtor=debtor, preference=preference, allowed=allowed, exclude={message.channel})
        tone = message.tone or Tone.NEUTRAL
        template = template_lookup(step_kind=step.kind, tone=tone, channel=channel, language=message.language)
        try:
            with transaction.atomic():
                fallback = Message.objects.create(
                    claim=claim,
                    step=step,
                    channel=channel,
                    tone=tone,
                    language=message.language,
                    template=template,
                    template_version=template.version if template else None,
                    segment_id=message.segment_id,
                    segment_version=message.segment_version,
                    scheduled_for=next_send_time(now, channel),
                    status=Message.Status.PLANNED,
                    fallback_for=message,
                )
        except IntegrityError:  # a concurrent webhook planned it first
            return Message.objects.filter(fallback_for=message).first()
        # The claims that went with the bounced message go with its replacement.
        Message.objects.filter(bundled_into=message, status=Message.Status.BUNDLED).update(
            bundled_into=fallback, sent_at=None
        )
        return fallback


def delivery_event_record(*, provider_id: str | None, event_type: str, occurred_at: datetime | None = None,
                          provider_event_id: str = "", description: str = "", hard_bounce: bool = False,
                          now: datetime | None = None) -> DeliveryEvent | None:  # fmt: skip
    """Record one provider event for the message with `provider_id`; None when no message matches."""
    now = now or timezone.now()
    occurred_at = occurred_at or now
    message = message_for_provider_id(provider_id)
    if message is None:
        logger.info("delivery event %s for unknown provider id %r ignored", event_type, provider_id)
        return None
    kind = EVENT_KINDS.get(event_type, DeliveryEvent.Kind.UNKNOWN)
    hard_bounce = hard_bounce and kind in (DeliveryEvent.Kind.BOUNCED, DeliveryEvent.Kind.REJECTED)
    with transaction.atomic():
        lookup = {"message": message, "kind": kind}
        lookup.update({"provider_event_id": provider_event_id} if provider_event_id else {"occurred_at": occurred_at})
        event, created = DeliveryEvent.objects.get_or_create(
            **lookup,
            defaults={
                "occurred_at": occurred_at,
                "provider_event_id": provider_event_id[:200],
                "description": description[:500],
                "is_hard_bounce": hard_bounce,
            },
        )
        if not created:
            return event
        updates: dict = {}
        if kind == DeliveryEvent.Kind.DELIVERED:
            updates["delivered_at"] = message.delivered_at or occurred_at
            if message.status == Message.Status.SENT:
                updates["status"] = Message.Status.DELIVERED
        elif kind == DeliveryEvent.Kind.OPENED and message.opened_at is None:
            updates["opened_at"] = occurred_at
        elif kind == DeliveryEvent.Kind.CLICKED and message.clicked_at is None:
            updates["clicked_at"] = occurred_at
        elif hard_bounce:
            updates["bounced_at"] = occurred_at
            updates["status"] = Message.Status.BOUNCED
        if updates:
            Message.objects.filter(pk=message.pk).update(**updates)
            for name, value in updates.items():
                setattr(message, name, value)
    if hard_bounce and message.channel in (Channel.EMAIL, Channel.SMS):
        contact_mark_invalid(debtor=message.claim.debtor, channel=message.channel, moment=occurred_at)
        message_fallback_plan(message=message, now=now)
    return event
