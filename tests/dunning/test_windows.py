"""Send windows: per-channel hours, no Sundays, no Dutch public holidays."""

import pytest

from dunning.windows import Window, is_sending_day, next_send_time
from tests.campaigns.personas import at


def test_inside_the_window_is_now():
    assert next_send_time(at(2026, 4, 2, 10), "email") == at(2026, 4, 2, 10)


def test_before_and_after_the_window():
    assert next_send_time(at(2026, 4, 2, 6), "email") == at(2026, 4, 2, 8)
    assert next_send_time(at(2026, 4, 1, 20, 30), "sms") == at(2026, 4, 2, 9)


def test_saturday_evening_goes_to_monday():
    assert next_send_time(at(2026, 3, 28, 22), "email") == at(2026, 3, 30, 8)


def test_kings_day_moves_to_the_26th_when_the_27th_is_a_sunday():
    assert not is_sending_day(at(2025, 4, 26).date())  # Saturday 26 April 2025: King's Day
    assert not is_sending_day(at(2025, 4, 27).date())  # Sunday
    assert next_send_time(at(2025, 4, 25, 22), "email") == at(2025, 4, 28, 8)
    assert not is_sending_day(at(2026, 4, 27).date())
    assert next_send_time(at(2026, 4, 27, 9), "letter") == at(2026, 4, 28, 7)


def test_christmas_and_easter():
    assert next_send_time(at(2026, 12, 24, 22), "email") == at(2026, 12, 28, 8)  # 25, 26 (Sat) and Sunday
    assert next_send_time(at(2026, 4, 4, 22), "email") == at(2026, 4, 7, 8)  # Easter Sunday and Monday


def test_windows_come_from_settings(settings):
    settings.SEND_WINDOWS = {"email": "12:00-13:00"}
    assert next_send_time(at(2026, 4, 2, 10), "email") == at(2026, 4, 2, 12)
    assert next_send_time(at(2026, 4, 2, 13), "email") == at(2026, 4, 4, 12)  # 3 April 2026: Good Friday


@pytest.mark.parametrize("text", ["8-21", "21:00-08:00", "nonsense"])
def test_bad_window_fails_loudly(text):
    with pytest.raises(ValueError, match="send window"):
        Window.parse(text)
