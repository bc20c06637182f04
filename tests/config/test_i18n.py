"""The admin speaks Dutch by default and English on request (browser language or the language cookie)."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import make_claim


def test_the_admin_is_dutch_by_default(client, clerk):
    client.force_login(clerk)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Debiteuren" in page
    assert "Vorderingen" in page
    assert 'lang="nl"' in page


def test_the_claim_list_shows_dutch_labels_and_filters(client, clerk):
    make_claim()
    client.force_login(clerk)
    page = client.get(reverse("admin:dunning_claim_changelist"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    for dutch in ("Betalingskenmerk", "Vervalt op", "Meer dan 60 dagen te laat", "Onroerendezaakbelasting (OZB)"):
        assert dutch in page


def test_english_on_the_browser_language(client, clerk):
    client.force_login(clerk)
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert "Debtors" in page and "Debiteuren" not in page


def test_english_on_the_language_cookie(client, clerk):
    client.force_login(clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("admin:dunning_claim_changelist"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Payment reference" in page and "Overdue more than 60 days" in page


def test_the_compiled_catalogue_is_committed_and_translates_plurals():
    # A fresh machine has no msgfmt: the .mo file must be in the repository, next to the .po file.
    assert (settings.BASE_DIR / "locale" / "nl" / "LC_MESSAGES" / "django.mo").exists()
    with translation.override("nl"):
        assert (
            translation.ngettext(
                "%(count)d claim skipped: it is no longer open.",
                "%(count)d claims skipped: they are no longer open.",
                2,
            )
            == "%(count)d vorderingen overgeslagen: die staan niet meer open."
        )


def test_a_clerk_switches_the_admin_to_english_and_back(client, clerk):
    client.force_login(clerk)
    index = reverse("admin:index")
    assert 'id="language-switch"' in client.get(index).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": index})
    assert "Debtors" in client.get(index).content.decode()
    client.post(reverse("set_language"), {"language": "nl", "next": index})
    assert "Debiteuren" in client.get(index).content.decode()
