"""What every channel returns or raises, so the dispatcher treats them alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    recipient: str
    parts: int = 1  # SMS parts (cost is per part); 1 elsewhere
    extra: dict = field(default_factory=dict)


class ChannelError(Exception):
    """A send failed. `retry` says whether trying again later may help."""

    retry = True

    def __init__(self, message: str, *, invalid_recipient: bool = False):
        super().__init__(message)
        # The address or number itself is wrong (hard bounce at send time): mark it invalid and fall back.
        self.invalid_recipient = invalid_recipient


class TransientChannelError(ChannelError):
    """Timeouts, 5xx, rate limits, insufficient balance: retried with backoff up to a limit."""

    retry = True


class PermanentChannelError(ChannelError):
    """Bad request, refused recipient, missing template or address: retrying cannot help."""

    retry = False


ZERO = Decimal("0.00")
