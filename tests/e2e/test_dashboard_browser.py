"""The dashboard in a real browser: a team lead logs in and lands on charts drawn as server-side SVG.

Uses Debian's Chromium and chromedriver; skips cleanly when they are missing. The screenshot goes to
test-artifacts/dashboard.png (git-ignored).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Tone
from dunning.models import Claim, Message
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.factories import make_claim, make_debtor, make_policy, make_segment

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The dashboard caches its curves for a few minutes; every test starts without them."""
    cache.clear()
    yield
    cache.clear()


def _history():
    """Two groups of 12 people, 40 days ago: friendly e-mails (8 paid within a week) and neutral letters
    (3 paid after three weeks)."""
    policy = make_policy()
    step = policy.steps.get(order=1)
    segment = make_segment(name="Soms te laat")
    sent = timezone.now() - timedelta(days=40)
    for tone, channel, paid, days in ((Tone.FRIENDLY, "email", 8, 4), (Tone.NEUTRAL, "letter", 3, 21)):
        for i in range(12):
            claim = make_claim(make_debtor(), policy=policy)
            Message.objects.create(
                claim=claim,
                step=step,
                tone=tone,
                channel=channel,
                segment=segment,
                scheduled_for=sent,
                sent_at=sent,
                status=Message.Status.DELIVERED,
            )
            if i < paid:
                Claim.objects.filter(pk=claim.pk).update(
                    status=Claim.Status.PAID, open_amount=Decimal("0"), settled_at=sent + timedelta(days=days)
                )


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_shows_payment_curves(live_server, browser, team_lead, settings):
    from selenium.webdriver.common.by import By

    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    _history()

    browser.get(live_server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys(team_lead.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    dashboard = browser.find_element(By.ID, "dashboard")
    charts = dashboard.find_elements(By.CSS_SELECTOR, "figure.curve-chart svg")
    assert len(charts) == 2
    by_channel = dashboard.find_element(By.CSS_SELECTOR, "figure[data-by=channel] svg")
    assert len(by_channel.find_elements(By.CSS_SELECTOR, "polyline.series")) == 2  # e-mail and letter
    assert charts[0].size["width"] > 300 and charts[0].size["height"] > 150  # really laid out
    assert "Openstaande vorderingen" in dashboard.text or "Open claims" in dashboard.text
    assert browser.find_elements(By.CSS_SELECTOR, "#content-main .app-dunning")  # the app list below
    assert screenshot(browser, "dashboard").stat().st_size > 10_000

    browser.get(live_server.url + reverse("admin:dunning_effectfigures_changelist"))
    table = browser.find_element(By.ID, "effect-table")
    assert "Soms te laat" in table.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.curve-chart svg")) == 2
    screenshot(browser, "effect")
