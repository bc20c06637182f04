"""Which channel reaches this debtor for this step.

1. The debtor's stated preference order (ChannelPreference), limited to the channels the step allows;
2. then the step's own order;
3. skipping a channel without valid contact data (none, or marked invalid by a hard bounce) or with an
   opt-out;
4. a letter when nothing digital is possible, even if the step lists only digital channels: nobody is
   left unreminded because their e-mail bounced.
"""

from __future__ import annotations

from collections.abc import Iterable

from customers.models import Channel, ChannelPreference, Debtor

DIGITAL = (Channel.EMAIL, Channel.SMS)
# Channel.values builds a new list on every access; the planner asks once per claim (bench/RESULTS.md).
KNOWN_CHANNELS = frozenset(Channel.values)


def candidate_channels(*, preference: ChannelPreference | None, allowed: Iterable[str]) -> list[str]:
    allowed = [c for c in allowed if c in KNOWN_CHANNELS]
    preferred = [c for c in (preference.preferred_channels if preference else []) if c in allowed]
    return [*dict.fromkeys([*preferred, *allowed])]


def channel_is_usable(*, debtor: Debtor, preference: ChannelPreference | None, channel: str) -> bool:
    if preference is not None and preference.is_opted_out(channel):
        return False
    return debtor.has_valid_contact(channel)


def choose_channel(
    *, debtor: Debtor, preference: ChannelPreference | None, allowed: Iterable[str], exclude: Iterable[str] = ()
) -> str:
    excluded = set(exclude)
    for channel in candidate_channels(preference=preference, allowed=allowed):
        if channel in excluded:
            continue
        if channel_is_usable(debtor=debtor, preference=preference, channel=channel):
            return channel
    # Nothing digital works (or the step is letter-only): a letter. Without a postal address the letter
    # channel fails at dispatch and the message shows up as failed for a clerk.
    return Channel.LETTER
