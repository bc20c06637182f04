"""Browser tests: Debian's Chromium and chromedriver (never a downloaded browser), headless.

Every test module here is skipped cleanly when they are missing. Screenshots go to test-artifacts/
(git-ignored) for a person to look at after a CI run.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, chromedriver)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


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
    # What a Dutch clerk's browser asks for (headless Chromium ignores --lang).
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl-NL,nl,en"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
