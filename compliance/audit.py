"""The audit trail's wiring: which models django-auditlog tracks, which fields it masks, and whom an entry is about.

Registered from `ComplianceConfig.ready()`. Three decisions live here:

1. Every model that holds personal data or decides about a person is tracked (create, update, delete and
   access). `PERSONAL_FIELDS` lists, per model, the fields whose values never enter the trail: they are
   masked completely (`mask_value`), not auditlog's default half mask, so the trail shows *that* a name
   changed, never the name. Long rendered content (message bodies) is left out of diffs altogether.
2. Each entry is tagged with the debtor it concerns (`additional_data["debtor_id"]`), so "who viewed or
   changed debtor X" includes entries on their claims, payments, pauses and messages.
3. An entry's `object_repr` for personal-data models is "<app>.<model> #<pk>", never `str(instance)`, which
   for a debtor contains the name: the trail must stay free of personal data after the debtor is
   anonymised.
"""

from django.db.models.signals import pre_save

MASK = "******"

# Fields whose values are masked in every audit entry. Keep in step with the models: a test fails when a
# text field of an audited model is neither here nor in NON_PERSONAL_TEXT_FIELDS.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "customers.debtor": (
        "source_reference",
        "given_name",
        "surname_prefix",
        "surname",
        "street",
        "house_number",
        "postal_code",
        "city",
        "email",
        "phone",
    ),
    "customers.channelpreference": ("note",),
    # The reason category can be health (special category, art. 9): masked.
    "customers.careflag": ("reason",),
    "dunning.claim": ("description",),
    "dunning.payment": ("payer_name", "payer_account", "reference_text"),
    "dunning.pause": ("note",),
    "dunning.escalationproposal": ("decision_reason",),
    "dunning.message": ("recipient", "subject", "last_error", "document"),
    "compliance.datasubjectrequest": ("details", "outcome"),
    "dunning.legalnotice": (),
    "dunning.claimcost": (),
    "dunning.paymentarrangement": ("note",),
    "dunning.instalment": (),
    "dunning.instalmentreminder": ("recipient", "subject", "last_error"),
}

# Left out of diffs entirely: large, and wholly personal.
EXCLUDED_FIELDS: dict[str, tuple[str, ...]] = {
    "dunning.message": ("body",),
    "dunning.instalmentreminder": ("body",),
}

# Text fields of audited models that hold no personal data (codes, choices, the municipality's own texts).
NON_PERSONAL_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "customers.debtor": ("kind", "country", "language"),
    "customers.channelpreference": ("preferred_channels", "stated_by"),
    "customers.careflag": ("source",),
    "dunning.claim": ("source_reference", "payment_reference", "kind", "regime", "status"),
    "dunning.payment": ("source", "external_id", "currency", "match_status"),
    "dunning.pause": ("reason",),
    "dunning.escalationproposal": ("action", "status"),
    "dunning.message": ("channel", "tone", "language", "status", "cancel_reason", "provider_id", "print_batch"),
    "compliance.datasubjectrequest": ("kind", "channel", "status"),
    "dunning.legalnotice": ("kind", "channel", "cost_kind"),
    "dunning.claimcost": ("kind",),
    "dunning.paymentarrangement": ("status",),
    "dunning.instalment": ("status",),
    "dunning.instalmentreminder": ("channel", "language", "status"),
}

# Models tracked without masking: they decide about people but hold no personal data themselves.
DECISION_MODELS: tuple[str, ...] = (
    "campaigns.segment",
    "campaigns.messagetemplate",
    "campaigns.dunningpolicy",
    "campaigns.policystep",
    "campaigns.stepoverride",
    "compliance.retentionrule",
    "dunning.costrate",
    "dunning.channelcost",
    "campaigns.experiment",
    "campaigns.experimentvariant",
)

PERSONAL_MODELS: tuple[str, ...] = tuple(PERSONAL_FIELDS)
AUDITED_MODELS: tuple[str, ...] = PERSONAL_MODELS + DECISION_MODELS


def mask_value(value: str) -> str:
    """auditlog's mask_callable: hide a value completely; only 'was empty' stays visible."""
    if value in ("", "None"):
        return value
    return MASK


def register_models() -> None:
    """Register every audited model with auditlog (idempotent: re-registering replaces the config)."""
    from auditlog import get_logentry_model
    from auditlog.registry import auditlog
    from auditlog.signals import pre_log
    from django.apps import apps

    for label in AUDITED_MODELS:
        model = apps.get_model(label)
        auditlog.unregister(model)
        auditlog.register(
            model,
            mask_fields=list(PERSONAL_FIELDS.get(label, ())),
            mask_callable="compliance.audit.mask_value",
            exclude_fields=list(EXCLUDED_FIELDS.get(label, ())),
        )
    pre_log.connect(_tag_with_debtor, dispatch_uid="compliance.audit.tag_with_debtor")
    pre_save.connect(
        _neutral_object_repr, sender=get_logentry_model(), dispatch_uid="compliance.audit.neutral_object_repr"
    )


def debtor_id_of(instance) -> int | None:
    """The debtor an audited row is about, from what is in memory plus at most one small query."""
    label = instance._meta.label_lower
    if label == "customers.debtor":
        return instance.pk
    direct = getattr(instance, "debtor_id", None)
    if direct:
        return direct
    claim_id = getattr(instance, "claim_id", None)
    if claim_id:
        cached = instance._state.fields_cache.get("claim")  # the claim is often loaded already: no query
        if cached is not None and cached.pk == claim_id:
            return cached.debtor_id
        from dunning.models import Claim

        return Claim.objects.filter(pk=claim_id).values_list("debtor_id", flat=True).first()
    if label in ("dunning.instalment", "dunning.instalmentreminder"):
        from dunning.models import Instalment

        instalment_id = instance.pk if label == "dunning.instalment" else instance.instalment_id
        return Instalment.objects.filter(pk=instalment_id).values_list("arrangement__debtor_id", flat=True).first()
    return None


def _tag_with_debtor(sender, instance, action, **kwargs):
    """auditlog's pre_log: auditlog calls `instance.get_additional_data()` when it writes the entry."""
    label = instance._meta.label_lower
    if label not in PERSONAL_FIELDS:
        return None
    debtor_id = debtor_id_of(instance)
    instance.get_additional_data = lambda: {"debtor_id": debtor_id} if debtor_id else None
    return None


def _neutral_object_repr(sender, instance, **kwargs):
    if instance.content_type_id is None:
        return
    content_type = instance.content_type
    label = f"{content_type.app_label}.{content_type.model}"
    if label in PERSONAL_FIELDS and instance.object_pk:
        instance.object_repr = f"{label} #{instance.object_pk}"
