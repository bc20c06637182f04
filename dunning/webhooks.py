"""The receiver for django-anymail's `tracking` signal (ESP webhooks at /anymail/<esp>/tracking/).

Only translation happens here: which events are hard bounces differs per ESP; the recording is the
`dunning.services.delivery.delivery_event_record` service. Connected in DunningConfig.ready().
"""

from __future__ import annotations

from anymail.signals import AnymailTrackingEvent

from dunning.services.delivery import delivery_event_record


def is_hard_bounce(event: AnymailTrackingEvent, esp_name: str) -> bool:
    """A permanent failure of the address itself (not a full mailbox, greylisting or a blocked sender)."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    esp = (esp_name or "").lower()
    if event.event_type not in ("bounced", "rejected"):
        return False
    if esp in ("brevo", "sendinblue"):
        return raw.get("event") in ("hard_bounce", "invalid_email")
    if esp == "mailjet":
        return bool(raw.get("hard_bounce"))
    if esp == "postmark":
        return raw.get("Type") in ("HardBounce", "BadEmailAddress", "ManuallyDeactivated")
    if esp in ("amazon_ses", "amazonses"):
        bounce = raw.get("bounce") or {}
        return bounce.get("bounceType") == "Permanent"
    return event.event_type == "bounced" and event.reject_reason in ("bounced", "invalid")


def on_tracking(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    delivery_event_record(
        provider_id=event.message_id,
        event_type=event.event_type,
        occurred_at=event.timestamp,
        provider_event_id=str(event.event_id or ""),
        description=(event.description or event.mta_response or event.reject_reason or "")[:500],
        hard_bounce=is_hard_bounce(event, esp_name),
    )
