"""What each role can see and change on the debtor and claim pages (the permission sets in compliance/roles.py)."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from compliance.roles import CLERK, COMPLIANCE_OFFICER, ROLES, TEAM_LEAD, roles_setup
from tests.factories import make_claim

# (page, clerk, team lead, compliance officer, staff without a role)
EXPECTED = [
    ("customers_debtor_changelist", 200, 200, 200, 403),
    ("customers_debtor_change", 200, 200, 200, 403),
    ("customers_debtor_add", 200, 200, 403, 403),
    ("customers_debtor_delete", 403, 403, 403, 403),
    ("dunning_claim_changelist", 200, 200, 200, 403),
    ("dunning_claim_change", 200, 200, 200, 403),
    ("dunning_claim_add", 200, 200, 403, 403),
    ("dunning_claim_delete", 403, 403, 403, 403),
    ("customers_careflag_add", 200, 200, 403, 403),
    ("customers_channelpreference_add", 200, 200, 403, 403),
]
WHO = ["clerk", "team_lead", "compliance_officer", "staff_without_role"]


@pytest.fixture
def staff_without_role(django_user_model):
    return django_user_model.objects.create_user(username="nobody", password="x-long-password", is_staff=True)


def _url(page: str, claim) -> str:
    if page.endswith(("_change", "_delete")):
        target = claim.debtor if page.startswith("customers_debtor") else claim
        return reverse(f"admin:{page}", args=[target.pk])
    return reverse(f"admin:{page}")


@pytest.mark.parametrize(
    ("page", "who", "status"),
    [(row[0], who, status) for row in EXPECTED for who, status in zip(WHO, row[1:], strict=True)],
)
def test_each_role_sees_and_changes_only_what_it_may(client, request, roles, page, who, status):
    user = request.getfixturevalue(who)
    claim = make_claim()
    client.force_login(user)
    response = client.get(_url(page, claim))
    assert response.status_code == status, f"{who} on {page}"


def test_a_compliance_officer_sees_the_claim_page_without_a_save_button(client, compliance_officer):
    claim = make_claim()
    client.force_login(compliance_officer)
    response = client.get(reverse("admin:dunning_claim_change", args=[claim.pk]))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b'name="_save"' not in response.content
    # ... and cannot post changes either.
    response = client.post(reverse("admin:dunning_claim_change", args=[claim.pk]), {"description": "x"})
    assert response.status_code == 403


def test_a_clerk_sees_the_cancel_and_write_off_actions_a_compliance_officer_does_not(client, clerk, compliance_officer):
    make_claim()
    client.force_login(clerk)
    actions = dict(
        client.get(reverse("admin:dunning_claim_changelist")).context["action_form"].fields["action"].choices
    )
    assert {"cancel_claims", "write_off_claims"} <= set(actions)
    client.force_login(compliance_officer)
    response = client.get(reverse("admin:dunning_claim_changelist"))
    assert response.context["action_form"] is None or "write_off_claims" not in dict(
        response.context["action_form"].fields["action"].choices
    )


def test_setup_roles_is_idempotent_and_resets_hand_made_changes(db):
    call_command("setup_roles", stdout=StringIO())
    first = {group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()}
    clerk = Group.objects.get(name=CLERK)
    extra = Group.objects.get(name=TEAM_LEAD).permissions.exclude(pk__in=clerk.permissions.all()).first()
    clerk.permissions.add(extra)  # someone granted a permission by hand

    roles_setup()
    roles_setup()

    again = {group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()}
    assert again == first
    assert set(first) >= {CLERK, TEAM_LEAD, COMPLIANCE_OFFICER}
    assert Group.objects.filter(name__in=ROLES).count() == len(ROLES)
    for name, permissions in ROLES.items():
        assert len(first[name]) == len(permissions)
