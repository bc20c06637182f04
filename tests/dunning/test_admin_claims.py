"""The clerk's claim list and claim page: filters, search by reference, bounded queries, access logging."""

from datetime import timedelta

import pytest
from auditlog.signals import accessed
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Tone
from dunning.admin.claims import EstimatedCountPaginator
from dunning.models import Claim, DeliveryEvent, Message, Pause, Payment
from dunning.references import payment_reference_format
from tests.factories import make_claim, make_debtor, make_policy, make_segment

CHANGELIST = reverse("admin:dunning_claim_changelist")


def _claims_with_history(count: int):
    policy = make_policy()
    steps = list(policy.steps.all())
    segment = make_segment()
    claims = []
    for i in range(count):
        claim = make_claim(policy=policy, debtor=make_debtor())
        for step in steps[:2]:
            message = Message.objects.create(
                claim=claim,
                step=step,
                channel="email",
                tone=Tone.FRIENDLY,
                segment=segment,
                scheduled_for=timezone.now() - timedelta(days=i),
                status=Message.Status.SENT,
            )
            DeliveryEvent.objects.create(message=message, kind=DeliveryEvent.Kind.SENT, occurred_at=timezone.now())
        claims.append(claim)
    return claims


@pytest.mark.parametrize("who", ["superuser", "clerk"])
def test_the_claim_list_renders_for_superuser_and_clerk(client, request, who):
    user = request.getfixturevalue(who)
    claim = make_claim()
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert payment_reference_format(claim.payment_reference) in response.content.decode()


@pytest.mark.parametrize("term_style", ["plain", "spaced", "dotted"])
def test_a_clerk_finds_a_claim_by_payment_reference_written_any_way(client, clerk, term_style):
    wanted = make_claim()
    other = make_claim()
    digits = wanted.payment_reference
    term = {
        "plain": digits,
        "spaced": payment_reference_format(digits),
        "dotted": ".".join(digits[i : i + 4] for i in range(0, 16, 4)),
    }[term_style]
    client.force_login(clerk)
    response = client.get(CHANGELIST, {"q": term})
    result = list(response.context["cl"].result_list)
    assert result == [wanted]
    assert other not in result


def test_a_clerk_finds_claims_by_debtor_name(client, clerk):
    debtor = make_debtor(given_name="Fatima", surname="El Amrani")
    wanted = make_claim(debtor=debtor)
    make_claim()
    client.force_login(clerk)
    response = client.get(CHANGELIST, {"q": "Amrani"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_the_list_filters_by_status_kind_regime_policy_and_due_date(client, clerk):
    policy = make_policy()
    today = timezone.localdate()
    old = make_claim(
        policy=policy, kind="parking", issued_on=today - timedelta(days=120), due_on=today - timedelta(days=90)
    )
    recent = make_claim(kind="ozb", issued_on=today - timedelta(days=30), due_on=today - timedelta(days=5))
    paid = make_claim(status=Claim.Status.PAID, open_amount=0, issued_on=today, due_on=today + timedelta(days=30))
    client.force_login(clerk)

    def results(**params):
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200, response
        return set(response.context["cl"].result_list)

    assert results(status__exact="paid") == {paid}
    assert results(kind__exact="parking") == {old}
    assert results(policy__id__exact=str(policy.pk)) == {old}
    assert results(due="overdue_60") == {old}
    assert results(due="overdue_1") == {recent}
    assert results(due_on__gte=str(today - timedelta(days=10)), due_on__lte=str(today)) == {recent}
    assert old in results(regime__exact="tax")
    # An empty "until" box is no bound, not an error.
    assert results(due_on__gte=str(today - timedelta(days=100)), due_on__lte="") == {old, recent, paid}


def test_the_claim_list_needs_a_bounded_number_of_queries(client, clerk, django_assert_max_num_queries):
    _claims_with_history(30)
    client.force_login(clerk)
    with django_assert_max_num_queries(10):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def test_the_claim_page_shows_a_bounded_timeline(client, clerk, django_assert_max_num_queries):
    claim = _claims_with_history(1)[0]
    step = claim.policy.steps.order_by("order").last()
    previous = None
    for i in range(30):  # a long history: a chain of fallback messages on one step
        previous = Message.objects.create(
            claim=claim,
            step=step,
            channel="sms",
            tone=Tone.EMPATHETIC,
            segment=make_segment(),
            scheduled_for=timezone.now() - timedelta(hours=i),
            fallback_for=previous,
        )
        DeliveryEvent.objects.create(message=previous, kind=DeliveryEvent.Kind.BOUNCED, occurred_at=timezone.now())
    Payment.objects.create(source="api", external_id="t-1", amount=5, paid_at=timezone.now(), claim=claim)
    Pause.objects.create(claim=claim, reason=Pause.Reason.OBJECTION, note="Bezwaar ingediend per brief")
    client.force_login(clerk)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("admin:dunning_claim_change", args=[claim.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="claim-timeline"' in page
    assert "Bezwaar ingediend per brief" in page
    assert len(response.context["timeline"]) == 2 + 2 + 30 + 1 + 1


def test_state_fields_are_read_only_on_the_claim_page(client, clerk):
    claim = make_claim()
    client.force_login(clerk)
    response = client.get(reverse("admin:dunning_claim_change", args=[claim.pk]))
    form_fields = response.context["adminform"].form.fields
    for state in ("status", "open_amount", "costs_amount", "settled_at", "principal"):
        assert state not in form_fields


def test_posting_a_status_change_through_the_form_has_no_effect(client, clerk):
    claim = make_claim()
    client.force_login(clerk)
    url = reverse("admin:dunning_claim_change", args=[claim.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(status="paid", open_amount="0.00")
    response = client.post(url, data)
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.OPEN
    assert claim.open_amount == claim.principal


def test_a_clerk_adds_a_claim_and_it_starts_open_for_its_principal(client, clerk):
    debtor = make_debtor()
    client.force_login(clerk)
    response = client.post(
        reverse("admin:dunning_claim_add"),
        {
            "debtor": debtor.pk,
            "payment_reference": "5000056789012345",
            "source_reference": "AANSLAG-1",
            "kind": "ozb",
            "regime": "tax",
            "principal": "310.50",
            "issued_on": "2026-02-28",
            "due_on": "2026-03-31",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    claim = Claim.objects.get(source_reference="AANSLAG-1")
    assert claim.status == Claim.Status.OPEN
    assert str(claim.open_amount) == "310.50"


def test_opening_a_claim_page_is_logged_as_access(client, clerk):
    claim = make_claim()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    accessed.connect(receiver)
    try:
        client.force_login(clerk)
        client.get(reverse("admin:dunning_claim_change", args=[claim.pk]))
        client.get(CHANGELIST)
    finally:
        accessed.disconnect(receiver)
    assert seen == [claim]


def test_the_paginator_counts_no_further_than_its_cap(db):
    for _ in range(5):
        make_claim()

    class Small(EstimatedCountPaginator):
        count_cap = 3

    assert Small(Claim.objects.all(), 2).count == 3
    assert EstimatedCountPaginator(Claim.objects.all(), 2).count == 5
    assert EstimatedCountPaginator(Claim.objects.filter(kind="rent"), 2).count == 0


@pytest.mark.postgres
def test_on_postgresql_an_unfiltered_big_table_uses_the_planner_estimate(db, django_assert_max_num_queries):
    from django.db import connection

    make_claim()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dunning_claim")

    class Tiny(EstimatedCountPaginator):
        count_cap = 1

    with django_assert_max_num_queries(1):
        assert Tiny(Claim.objects.all(), 10).count >= 1
