"""Send windows: when a message on a channel may leave.

Per channel a daily window from settings.SEND_WINDOWS (env SEND_WINDOW_EMAIL=08:00-21:00 ...), never on a
Sunday and never on a Dutch public holiday (the `holidays` package: King's Day moves to the 26th when the
27th is a Sunday, Liberation Day only in lustrum years, and so on). A message planned outside a window
lands at the start of the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import timezone

DEFAULT_WINDOWS = {"email": "08:00-21:00", "sms": "09:00-20:00", "letter": "07:00-17:00"}


@dataclass(frozen=True)
class Window:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> Window:
        try:
            start_text, end_text = text.split("-")
            start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
        except ValueError:
            raise ValueError(f"send window {text!r} is not of the form HH:MM-HH:MM")
        if start >= end:
            raise ValueError(f"send window {text!r} must start before it ends")
        return cls(start, end)


def window_for(channel: str) -> Window:
    configured = {**DEFAULT_WINDOWS, **getattr(settings, "SEND_WINDOWS", {})}
    return Window.parse(configured[channel])


@lru_cache(maxsize=64)
def _dutch_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NL", years=year)


def is_sending_day(day: date) -> bool:
    return day.weekday() != 6 and day not in _dutch_holidays(day.year)


def holiday_name(day: date) -> str | None:
    return _dutch_holidays(day.year).get(day)


def next_send_time(moment: datetime, channel: str) -> datetime:
    """`moment` itself when it is inside the channel's window on a sending day, else the next window's start."""
    tz = timezone.get_current_timezone()
    local = timezone.localtime(moment, tz)
    window = window_for(channel)
    day = local.date()
    for _ in range(30):  # at most a few days: Christmas + Sunday
        if is_sending_day(day):
            start = timezone.make_aware(datetime.combine(day, window.start), tz)
            end = timezone.make_aware(datetime.combine(day, window.end), tz)
            if local < start:
                return start
            if local < end:
                return local
        day += timedelta(days=1)
        local = timezone.make_aware(datetime.combine(day, time.min), tz)
    raise RuntimeError("no sending day within 30 days")  # pragma: no cover


def is_in_window(moment: datetime, channel: str) -> bool:
    return next_send_time(moment, channel) == timezone.localtime(moment)
