import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from compliance.roles import CLERK, COMPLIANCE_OFFICER, TEAM_LEAD, roles_setup

PASSWORD = "test-password-2026"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (row locks, concurrency) skip cleanly on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def roles(db):
    roles_setup()


def _user_with_role(username: str, role: str | None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, email=f"{username}@gemeente.example", **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def clerk(roles):
    return _user_with_role("clerk", CLERK)


@pytest.fixture
def team_lead(roles):
    return _user_with_role("teamlead", TEAM_LEAD)


@pytest.fixture
def compliance_officer(roles):
    return _user_with_role("compliance", COMPLIANCE_OFFICER)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="admin", password=PASSWORD, email="a@example.nl")


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
