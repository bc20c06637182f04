"""Who may see and do what in the admin, as a matrix of HTTP statuses per role.

Compliance pages are asserted cell by cell. Business admins are checked against the role definitions in
compliance/roles.py: a role without a permission always gets 403; compliance officers can read business
data but never add, change or delete it.
"""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.urls import reverse

from compliance.models import DataSubjectRequest, PurgeRun, RetentionRule
from compliance.roles import CLERK, COMPLIANCE_OFFICER, ROLES, TEAM_LEAD
from dunning.models import Payment
from tests.conftest import PASSWORD
from tests.factories import make_care_flag, make_claim, make_debtor, make_preference

pytestmark = pytest.mark.django_db

ROLE_USERS = {"clerk": CLERK, "teamlead": TEAM_LEAD, "compliance": COMPLIANCE_OFFICER, "admin": None}


@pytest.fixture
def everyone(clerk, team_lead, compliance_officer, superuser):
    return {"clerk": clerk, "teamlead": team_lead, "compliance": compliance_officer, "admin": superuser}


@pytest.fixture
def objects(db):
    debtor = make_debtor()
    claim = make_claim(debtor)
    payment = Payment.objects.create(source="api", external_id="m1", amount=5, paid_at=claim.created_at, claim=claim)
    request = DataSubjectRequest.objects.create(debtor=debtor, kind="access", received_on=date(2026, 3, 1))
    LogEntry.objects.log_create(debtor, action=LogEntry.Action.ACCESS, force_log=True)
    return {
        "customers.debtor": debtor,
        "customers.channelpreference": make_preference(debtor),
        "customers.careflag": make_care_flag(debtor),
        "dunning.claim": claim,
        "dunning.payment": payment,
        "compliance.datasubjectrequest": request,
        "compliance.retentionrule": RetentionRule.objects.first(),
        "compliance.purgerun": PurgeRun.objects.create(now=claim.created_at),
        "auditlog.logentry": LogEntry.objects.first(),
    }


def _urls(label: str, obj) -> dict[str, str]:
    app, model = label.split(".")
    return {
        "changelist": reverse(f"admin:{app}_{model}_changelist"),
        "add": reverse(f"admin:{app}_{model}_add"),
        "change": reverse(f"admin:{app}_{model}_change", args=[obj.pk]),
        "delete": reverse(f"admin:{app}_{model}_delete", args=[obj.pk]),
    }


def _statuses(client, user, label, obj) -> dict[str, int]:
    client.force_login(user)
    urls = _urls(label, obj)
    result = {name: client.get(url).status_code for name, url in urls.items()}
    # An allowed POST either redisplays the form with errors (200) or saves and redirects (302).
    posted = client.post(urls["change"], {}).status_code
    result["post_change"] = 200 if posted == 302 else posted
    return result


# (changelist, add, change GET, change POST, delete) per role; 200 on POST means "the form was processed".
COMPLIANCE_MATRIX = {
    "auditlog.logentry": {
        "clerk": (403, 403, 403, 403, 403),
        "teamlead": (403, 403, 403, 403, 403),
        "compliance": (200, 403, 200, 403, 403),
        "admin": (200, 403, 200, 403, 403),
    },
    "compliance.retentionrule": {
        "clerk": (403, 403, 403, 403, 403),
        "teamlead": (403, 403, 403, 403, 403),
        "compliance": (200, 200, 200, 200, 403),
        # A superuser outside the Compliance officer role reads the rules but cannot change them.
        "admin": (200, 403, 200, 403, 403),
    },
    "compliance.purgerun": {
        "clerk": (403, 403, 403, 403, 403),
        "teamlead": (403, 403, 403, 403, 403),
        "compliance": (200, 403, 200, 403, 403),
        "admin": (200, 403, 200, 403, 403),
    },
    "compliance.datasubjectrequest": {
        "clerk": (200, 200, 200, 403, 403),
        "teamlead": (200, 200, 200, 403, 403),
        "compliance": (200, 200, 200, 200, 403),
        "admin": (200, 200, 200, 200, 403),
    },
}


@pytest.mark.parametrize("label", sorted(COMPLIANCE_MATRIX))
@pytest.mark.parametrize("username", sorted(ROLE_USERS))
def test_compliance_admin_matrix(client, everyone, objects, label, username):
    got = _statuses(client, everyone[username], label, objects[label])
    columns = ("changelist", "add", "change", "post_change", "delete")
    expected = dict(zip(columns, COMPLIANCE_MATRIX[label][username], strict=True))
    assert got == expected


BUSINESS = ("customers.debtor", "customers.channelpreference", "customers.careflag", "dunning.claim", "dunning.payment")


def _has(username: str, permission: str) -> bool:
    return username == "admin" or permission in ROLES[ROLE_USERS[username]]


@pytest.mark.parametrize("label", BUSINESS)
@pytest.mark.parametrize("username", sorted(ROLE_USERS))
def test_business_admin_matrix_follows_the_role_definitions(client, everyone, objects, label, username):
    from django.apps import apps

    model = apps.get_model(label)
    model_admin = admin.site._registry.get(model)
    if model_admin is None:
        pytest.skip(f"{label} has no admin yet")
    app, name = label.split(".")
    got = _statuses(client, everyone[username], label, objects[label])
    can = {action: _has(username, f"{app}.{action}_{name}") for action in ("view", "add", "change", "delete")}
    readable = can["view"] or can["change"]
    assert got["changelist"] == (200 if readable else 403)
    assert got["change"] == (200 if readable else 403)
    for action, key in (("add", "add"), ("delete", "delete"), ("change", "post_change")):
        overridden = getattr(type(model_admin), f"has_{action}_permission") is not getattr(
            ModelAdmin, f"has_{action}_permission"
        )
        if not can[action]:
            assert got[key] == 403, (label, username, key)
        elif key != "post_change" and not overridden:
            assert got[key] == 200, (label, username, key)


def test_compliance_officers_change_no_business_data():
    officer = ROLES[COMPLIANCE_OFFICER]
    business = {p for p in officer if p.split(".")[0] in ("customers", "dunning", "campaigns")}
    assert business and all(p.split(".")[1].startswith("view_") for p in business)


def test_clerks_and_team_leads_cannot_read_the_audit_trail():
    assert "auditlog.view_logentry" not in ROLES[CLERK]
    assert "auditlog.view_logentry" not in ROLES[TEAM_LEAD]


@pytest.mark.parametrize(
    ("url_name", "expected"),
    [
        ("compliance-register", {"clerk": 403, "teamlead": 403, "compliance": 200, "admin": 200}),
        ("compliance-minimisation", {"clerk": 200, "teamlead": 200, "compliance": 200, "admin": 200}),
        ("admin:auditlog_logentry_export", {"clerk": 403, "teamlead": 403, "compliance": 200, "admin": 200}),
    ],
)
def test_compliance_pages_matrix(client, everyone, objects, url_name, expected):
    url = reverse(url_name)
    for username, status in expected.items():
        client.force_login(everyone[username])
        assert client.get(url).status_code == status, username
    client.logout()
    assert client.get(url).status_code == 302


def test_anonymous_visitors_are_sent_to_the_login_page(client, objects):
    for url in _urls("auditlog.logentry", objects["auditlog.logentry"]).values():
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_nobody_can_delete_audit_entries_even_with_a_bulk_action(client, superuser, objects):
    client.force_login(superuser)
    entry = objects["auditlog.logentry"]
    response = client.post(
        reverse("admin:auditlog_logentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_login_with_password_works_for_the_officer(client, compliance_officer):
    assert client.login(username="compliance", password=PASSWORD)
