"""The three roles of the back office, as explicit permission sets (`setup_roles` applies them).

Each entry is "app_label.codename". A role gets exactly these permissions: `setup_roles` removes any
other permission a group picked up by hand, so the code is the one place that says who may do what.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

CLERK = "Clerk"
TEAM_LEAD = "Team lead"
COMPLIANCE_OFFICER = "Compliance officer"


def _crud(model: str, *actions: str) -> set[str]:
    app, name = model.split(".")
    return {f"{app}.{action}_{name}" for action in actions}


_BUSINESS_MODELS = (
    "customers.debtor",
    "customers.channelpreference",
    "customers.careflag",
    "dunning.claim",
    "dunning.payment",
    "dunning.pause",
    "dunning.message",
    "dunning.deliveryevent",
    "dunning.escalationproposal",
    "campaigns.segment",
    "campaigns.messagetemplate",
    "campaigns.dunningpolicy",
    "campaigns.policystep",
    "campaigns.stepoverride",
    "campaigns.experiment",
    "campaigns.experimentvariant",
    "dunning.channelcost",
    "dunning.effectfigures",
    "dunning.costrate",
    "dunning.legalnotice",
    "dunning.claimcost",
    "dunning.paymentarrangement",
    "dunning.instalment",
    "dunning.instalmentreminder",
)

_VIEW_BUSINESS = set().union(*(_crud(model, "view") for model in _BUSINESS_MODELS))

CLERK_PERMISSIONS = (
    _VIEW_BUSINESS
    | _crud("customers.debtor", "add", "change")
    | _crud("customers.channelpreference", "add", "change")
    | _crud("customers.careflag", "add", "change")
    | _crud("dunning.claim", "add", "change")
    | _crud("dunning.pause", "add", "change")
    # "change" on messages only unlocks the outbox's retry/cancel actions: every message field is read-only.
    | _crud("dunning.message", "change")
    | _crud("dunning.paymentarrangement", "add", "change")
    | {"dunning.match_payment"}
    # Citizens often make a data-subject request by phone: clerks register it, compliance officers handle it.
    | _crud("compliance.datasubjectrequest", "add", "view")
)

TEAM_LEAD_PERMISSIONS = (
    CLERK_PERMISSIONS
    | _crud("campaigns.segment", "add", "change", "delete")
    | _crud("campaigns.messagetemplate", "add", "change")
    | _crud("campaigns.dunningpolicy", "add", "change")
    | _crud("campaigns.policystep", "add", "change", "delete")
    | _crud("campaigns.stepoverride", "add", "change", "delete")
    | {"dunning.decide_escalationproposal"}
    # Indexed and municipality-set cost amounts (Kostenwet, Awb fee) are data team leads keep current.
    | _crud("dunning.costrate", "add", "change", "delete")
    | _crud("campaigns.experiment", "add", "change")
    | _crud("campaigns.experimentvariant", "add", "change", "delete")
    | {"campaigns.stop_experiment"}
    | _crud("dunning.channelcost", "add", "change")
)

COMPLIANCE_OFFICER_PERMISSIONS = (
    _VIEW_BUSINESS
    | {"auditlog.view_logentry"}
    | _crud("compliance.retentionrule", "add", "change", "view")
    | _crud("compliance.purgerun", "view")
    | _crud("compliance.datasubjectrequest", "add", "change", "view")
    | {"compliance.handle_datasubjectrequest"}
)

ROLES: dict[str, set[str]] = {
    CLERK: CLERK_PERMISSIONS,
    TEAM_LEAD: TEAM_LEAD_PERMISSIONS,
    COMPLIANCE_OFFICER: COMPLIANCE_OFFICER_PERMISSIONS,
}


def _permissions(names: set[str]) -> list[Permission]:
    query = Q()
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = names - {f"{p.content_type.app_label}.{p.codename}" for p in found}
    if missing:
        raise LookupError(f"unknown permissions in role definition: {', '.join(sorted(missing))}")
    return found


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create or update every role group; idempotent. Returns permission counts per role."""
    counts = {}
    for name, permission_names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(permission_names))
        counts[name] = len(permission_names)
    return counts
