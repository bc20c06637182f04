"""The debtor pages: lists render, search finds a debtor however a clerk types it, inlines, access logging."""

from datetime import timedelta

import pytest
from auditlog.signals import accessed
from django.urls import reverse
from django.utils import timezone

from customers.models import CareFlag, ChannelPreference
from dunning.references import payment_reference_format
from tests.factories import make_care_flag, make_claim, make_debtor, make_preference

DEBTORS = reverse("admin:customers_debtor_changelist")


@pytest.mark.parametrize("who", ["superuser", "clerk"])
@pytest.mark.parametrize("model", ["debtor", "channelpreference", "careflag"])
def test_every_customers_changelist_renders(client, request, who, model):
    user = request.getfixturevalue(who)
    debtor = make_debtor(surname="Bakker")
    make_preference(debtor)
    make_care_flag(debtor)
    client.force_login(user)
    response = client.get(reverse(f"admin:customers_{model}_changelist"))
    assert response.status_code == 200
    assert "Bakker" in response.content.decode()


def _found(client, term):
    response = client.get(DEBTORS, {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.django_db
def test_a_clerk_finds_a_debtor_by_name_number_email_postal_code_or_reference(client, clerk):
    wanted = make_debtor(given_name="Sanne", surname="de Vries", email="sanne@example.nl", postal_code="3511 AB")
    claim = make_claim(debtor=wanted)
    make_debtor(surname="Jansen", postal_code="3512 CD")
    client.force_login(clerk)
    assert _found(client, "Vries") == [wanted]
    assert _found(client, "Sanne Vries") == [wanted]
    assert _found(client, wanted.source_reference) == [wanted]
    assert _found(client, "SANNE@example.nl") == [wanted]
    assert _found(client, "3511AB") == [wanted]
    assert _found(client, "3511 ab") == [wanted]
    assert _found(client, payment_reference_format(claim.payment_reference)) == [wanted]


@pytest.mark.django_db
def test_the_debtor_list_filters_on_active_care_flags_and_open_claims(client, clerk):
    helped = make_debtor()
    make_care_flag(helped)
    ended = make_debtor()
    make_care_flag(
        ended, starts_on=timezone.localdate() - timedelta(days=30), ends_on=timezone.localdate() - timedelta(days=1)
    )
    owing = make_debtor()
    make_claim(debtor=owing)
    client.force_login(clerk)
    assert list(client.get(DEBTORS, {"care": "yes"}).context["cl"].result_list) == [helped]
    assert set(client.get(DEBTORS, {"care": "no"}).context["cl"].result_list) == {ended, owing}
    assert list(client.get(DEBTORS, {"open_claims": "yes"}).context["cl"].result_list) == [owing]


@pytest.mark.django_db
def test_the_debtor_page_lists_claims_read_only_with_links(client, clerk, django_assert_max_num_queries):
    debtor = make_debtor()
    make_preference(debtor)
    make_care_flag(debtor)
    claims = [make_claim(debtor=debtor) for _ in range(30)]
    client.force_login(clerk)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:customers_debtor_change", args=[debtor.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for claim in claims:
        assert reverse("admin:dunning_claim_change", args=[claim.pk]) in page
    claim_formset = next(f for f in response.context["inline_admin_formsets"] if f.opts.model.__name__ == "Claim")
    assert not claim_formset.has_add_permission and not claim_formset.has_change_permission


@pytest.mark.django_db
def test_a_clerk_records_a_care_flag_and_a_preference_and_is_named_as_recorder(client, clerk):
    debtor = make_debtor()
    client.force_login(clerk)
    url = reverse("admin:customers_debtor_change", args=[debtor.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {
            "channel_preference-TOTAL_FORMS": "1",
            "channel_preference-INITIAL_FORMS": "0",
            "channel_preference-0-preferred_channels": '["sms", "email"]',
            "channel_preference-0-stated_by": "clerk",
            "channel_preference-0-stated_at_0": "2026-12-01",
            "channel_preference-0-stated_at_1": "10:00:00",
            "care_flags-TOTAL_FORMS": "1",
            "care_flags-INITIAL_FORMS": "0",
            "care_flags-0-source": "self_declared",
            "care_flags-0-reason": "health",
            "care_flags-0-starts_on": "2026-12-01",
            "claims-TOTAL_FORMS": "0",
            "claims-INITIAL_FORMS": "0",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["inline_admin_formsets"]
    ]
    preference = ChannelPreference.objects.get(debtor=debtor)
    assert preference.preferred_channels == ["sms", "email"] and preference.recorded_by == clerk
    assert CareFlag.objects.get(debtor=debtor).created_by == clerk


@pytest.mark.django_db
def test_opening_a_debtor_page_is_logged_as_access(client, clerk):
    debtor = make_debtor()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    accessed.connect(receiver)
    try:
        client.force_login(clerk)
        client.get(DEBTORS)
        client.get(reverse("admin:customers_debtor_change", args=[debtor.pk]))
    finally:
        accessed.disconnect(receiver)
    assert seen == [debtor]


def test_the_debtor_page_links_to_who_viewed_or_changed_it_for_compliance_only(client, clerk, compliance_officer):
    debtor = make_debtor()
    url = reverse("admin:customers_debtor_change", args=[debtor.pk])
    trail = f"{reverse('admin:auditlog_logentry_changelist')}?debtor={debtor.pk}"

    client.force_login(compliance_officer)
    page = client.get(url).content.decode()
    assert trail in page
    assert client.get(trail).status_code == 200

    client.force_login(clerk)
    assert trail not in client.get(url).content.decode()
