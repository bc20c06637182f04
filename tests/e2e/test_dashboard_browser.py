"""The dashboard in a real browser: a team lead logs in and lands on charts drawn as server-side SVG.

Uses Debian's Chromium and chromedriver; skips cleanly when they are missing. The screenshot goes to
test-artifacts/dashboard.png (git-ignored).
"""

import shutil
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Tone
from dunning.models import Claim, Message
from tests.conftest import PASSWORD
from tests.factories import make_claim, make_debtor, make_policy, make_segment

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
    ),
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The dashboard caches its curves for a few minutes; every test starts without them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1400",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl-NL,nl,en"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


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
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "dashboard.png"
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000

    browser.get(live_server.url + reverse("admin:dunning_effectfigures_changelist"))
    table = browser.find_element(By.ID, "effect-table")
    assert "Soms te laat" in table.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.curve-chart svg")) == 2
    browser.save_screenshot(str(ARTIFACTS / "effect.png"))
