"""django-q2 entry points: thin wrappers that take a time and call a service."""

from django.utils import timezone


def purge(now=None) -> dict:
    """The daily "purge" schedule: apply every retention rule as of now (see compliance.purge)."""
    from compliance.purge import purge as purge_run

    run = purge_run(now=now or timezone.now())
    return {"purge_run": run.pk, "status": run.status, "total": run.total}
