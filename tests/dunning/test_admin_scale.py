"""The claim pages stay cheap however much data there is: a fixed number of queries, never a full count.

Measured at a million claims in bench/RESULTS.md; here the shape is pinned: the same number of queries
for 5 and for 50 claims (each with messages, delivery events and payments), and no COUNT over the whole
claims table (the paginator counts a capped subquery, or reads the planner's estimate on PostgreSQL).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import PolicyStep
from dunning.models import Claim, DeliveryEvent, Message, Payment
from tests.factories import make_claim, make_debtor, make_policy

CHANGELIST = "/admin/dunning/claim/"
PAGES = {
    "unfiltered": CHANGELIST,
    "filtered": CHANGELIST + "?status__exact=open&kind__exact=ozb&due=overdue_15",
    "searched_by_name": CHANGELIST + "?q=Jansen&status__exact=open",
    "searched_by_reference": CHANGELIST + "?q=0000+0000",
}


def _claims_with_history(count: int, *, messages_per_claim: int = 3, payments_per_claim: int = 2) -> list[Claim]:
    """`count` open claims of different debtors, each with sent messages (one per step, at most 4), their
    delivery events, and payments."""
    policy = make_policy()
    steps = list(PolicyStep.objects.filter(policy=policy).order_by("order"))
    now = timezone.now()
    claims = []
    for i in range(count):
        debtor = make_debtor(surname=f"Jansen{i}")
        claim = make_claim(
            debtor,
            policy=policy,
            principal=Decimal("400.00"),
            issued_on=timezone.localdate() - timedelta(days=60),
            due_on=timezone.localdate() - timedelta(days=30),
        )
        for n in range(messages_per_claim):
            sent = now - timedelta(days=20 - n)
            message = Message.objects.create(
                claim=claim,
                step=steps[n],
                channel="email",
                tone="neutral",
                scheduled_for=sent,
                sent_at=sent,
                status=Message.Status.SENT,
                body="Beste inwoner ...",
            )
            DeliveryEvent.objects.create(message=message, kind=DeliveryEvent.Kind.DELIVERED, occurred_at=sent)
        for n in range(payments_per_claim):
            Payment.objects.create(
                source="camt053",
                external_id=f"scale-{claim.pk}-{n}",
                amount=Decimal("10.00"),
                paid_at=now - timedelta(days=5 - n),
                claim=claim,
                match_status=Payment.MatchStatus.MATCHED,
            )
        claims.append(claim)
    return claims


def _queries(client, url: str) -> list[str]:
    client.get(url)  # warm caches (content types, sessions) so both sizes are measured alike
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in captured.captured_queries]


def _full_claim_counts(sql: list[str]) -> list[str]:
    """COUNT queries over the claims table that are not capped by a LIMIT."""
    return [s for s in sql if "COUNT(" in s.upper() and '"dunning_claim"' in s and "LIMIT" not in s.upper()]


@pytest.mark.django_db
def test_the_changelist_needs_the_same_queries_for_5_and_for_50_claims(client, superuser):
    client.force_login(superuser)
    _claims_with_history(5)
    few = {name: len(_queries(client, url)) for name, url in PAGES.items()}
    _claims_with_history(45)
    assert Claim.objects.count() == 50
    many = {name: len(_queries(client, url)) for name, url in PAGES.items()}
    assert many == few
    assert max(many.values()) <= 12


@pytest.mark.django_db
def test_the_changelist_never_counts_the_whole_claims_table(client, superuser):
    client.force_login(superuser)
    _claims_with_history(50, messages_per_claim=1, payments_per_claim=1)
    for name, url in PAGES.items():
        sql = _queries(client, url)
        assert not _full_claim_counts(sql), (name, _full_claim_counts(sql))
        # The page shows at most list_per_page rows: the row query is limited.
        assert any('FROM "dunning_claim"' in s and "LIMIT" in s.upper() for s in sql), name


@pytest.mark.django_db
def test_the_full_count_check_would_catch_an_uncapped_count(client, superuser):
    """The helper above is not vacuous: Django's own full count (show_full_result_count) is caught."""
    from dunning.admin.claims import ClaimAdmin

    client.force_login(superuser)
    _claims_with_history(3, messages_per_claim=1, payments_per_claim=1)
    ClaimAdmin.show_full_result_count = True
    try:
        sql = _queries(client, PAGES["filtered"])
    finally:
        ClaimAdmin.show_full_result_count = False
    assert _full_claim_counts(sql)


@pytest.mark.django_db
def test_the_claim_page_needs_the_same_queries_for_a_short_and_a_long_history(client, superuser):
    client.force_login(superuser)
    short, long = _claims_with_history(1, messages_per_claim=1, payments_per_claim=1) + _claims_with_history(
        1, messages_per_claim=4, payments_per_claim=20
    )
    _claims_with_history(48, messages_per_claim=2, payments_per_claim=2)  # other rows must not matter either
    short_sql = _queries(client, f"/admin/dunning/claim/{short.pk}/change/")
    long_sql = _queries(client, f"/admin/dunning/claim/{long.pk}/change/")
    assert len(long_sql) == len(short_sql)
    assert len(long_sql) <= 20
    assert not _full_claim_counts(long_sql)


@pytest.mark.django_db
def test_the_name_search_matches_every_word_in_given_name_or_surname_and_source_references_exactly(client, clerk):
    fatima = make_claim(make_debtor(given_name="Fatima", surname="El Amrani"), source_reference="TAX-2026-001")
    other_fatima = make_claim(make_debtor(given_name="Fatima", surname="Jansen"))
    make_claim(make_debtor(given_name="Karim", surname="El Amrani"))
    client.force_login(clerk)

    def found(term):
        return set(client.get(CHANGELIST, {"q": term}).context["cl"].result_list)

    assert found("fatima amrani") == {fatima}
    assert found("Fatima") == {fatima, other_fatima}
    assert found("TAX-2026-001") == {fatima}
    assert found("nobody") == set()
