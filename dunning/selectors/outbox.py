"""Reads for the clerks' outbox: what is planned, sent, failed and bounced per channel today."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from customers.models import Channel
from dunning.models import Message

SENT_STATUSES = [Message.Status.SENT, Message.Status.DELIVERED, Message.Status.BOUNCED]


def outbox_today(*, now: datetime) -> list[dict]:
    """One row per channel: planned (due by tonight), sent today, failed (open for action), bounced today."""
    start = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    end = start + timedelta(days=1)
    rows = (
        Message.objects.filter(
            Q(status=Message.Status.PLANNED, scheduled_for__lt=end)
            | Q(sent_at__gte=start, sent_at__lt=end, status__in=SENT_STATUSES)
            | Q(status=Message.Status.FAILED)
            | Q(bounced_at__gte=start, bounced_at__lt=end)
        )
        .values("channel")
        .annotate(
            planned=Count("pk", filter=Q(status=Message.Status.PLANNED, scheduled_for__lt=end)),
            sent=Count("pk", filter=Q(sent_at__gte=start, sent_at__lt=end, status__in=SENT_STATUSES)),
            failed=Count("pk", filter=Q(status=Message.Status.FAILED)),
            bounced=Count("pk", filter=Q(bounced_at__gte=start, bounced_at__lt=end)),
        )
        .order_by()
    )
    by_channel = {row["channel"]: row for row in rows}
    return [
        {
            "channel": channel,
            "label": label,
            **{k: by_channel.get(channel, {}).get(k, 0) for k in ("planned", "sent", "failed", "bounced")},
        }
        for channel, label in Channel.choices
    ]
