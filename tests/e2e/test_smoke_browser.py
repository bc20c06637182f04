"""Smoke test in a real browser: a clerk logs in, opens a debtor and the claim list.

Uses Debian's Chromium and chromedriver (never a downloaded browser); skips cleanly when they are missing.
Screenshots land in test-artifacts/ (git-ignored) for a human to look at after a CI run.
"""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.factories import make_claim, make_debtor

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_a_clerk_logs_in_and_opens_a_debtor_and_the_claim_list(live_server, browser, clerk, settings):
    from selenium.webdriver.common.by import By

    # The live server speaks plain http: cookies marked Secure would not come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    debtor = make_debtor(given_name="Sanne", surname="de Vries", city="Utrecht")
    claim = make_claim(debtor=debtor, description="OZB 2026 woning")

    browser.get(live_server.url + reverse("admin:login"))
    browser.find_element(By.NAME, "username").send_keys(clerk.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert "Debiteuren" in browser.find_element(By.ID, "content").text

    browser.get(live_server.url + reverse("admin:customers_debtor_change", args=[debtor.pk]))
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Sanne de Vries" in page or "de Vries" in page
    assert claim.payment_reference in page  # the claim inline
    assert screenshot(browser, "debtor").stat().st_size > 0

    browser.get(live_server.url + reverse("admin:dunning_claim_changelist"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1
    assert "Sanne de Vries" in rows[0].text
    assert screenshot(browser, "claims").stat().st_size > 0

    rows[0].find_element(By.CSS_SELECTOR, "th a").click()
    assert "Tijdlijn" in browser.find_element(By.ID, "claim-timeline").text
