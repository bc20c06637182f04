"""The debtor pages: who owes, how to reach them, what they told us, and their claims at a glance.

Opening a debtor is logged (access logging, GDPR): the page shows personal data.
"""

import re

from auditlog.signals import accessed
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.admin import debtor_trail_url
from customers.models import CareFlag, ChannelPreference, Debtor
from dunning.admin.claims import EstimatedCountPaginator
from dunning.models import Claim
from dunning.references import payment_reference_normalise

_POSTAL_CODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})\s*$")


class ActiveCareFlagFilter(admin.SimpleListFilter):
    title = _("care flag")
    parameter_name = "care"

    def lookups(self, request, model_admin):
        return [("yes", _("Has an active care flag")), ("no", _("No active care flag"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        active = CareFlag.objects.filter(CareFlag.active_q(timezone.localdate()), debtor=OuterRef("pk"))
        return queryset.filter(Exists(active)) if self.value() == "yes" else queryset.exclude(Exists(active))


class OpenClaimsFilter(admin.SimpleListFilter):
    title = _("open claims")
    parameter_name = "open_claims"

    def lookups(self, request, model_admin):
        return [("yes", _("Has open claims")), ("no", _("No open claims"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        open_claims = Claim.objects.filter(debtor=OuterRef("pk"), status=Claim.Status.OPEN)
        return queryset.filter(Exists(open_claims)) if self.value() == "yes" else queryset.exclude(Exists(open_claims))


class ClaimInline(admin.TabularInline):
    """Read-only summary rows; the claim's own page (linked) is where a clerk acts on it."""

    model = Claim
    fields = ("payment_reference", "kind", "principal", "open_amount", "due_on", "status")
    readonly_fields = fields
    ordering = ("-due_on", "-id")
    extra = 0
    show_change_link = True
    can_delete = False
    verbose_name_plural = _("claims")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChannelPreferenceInline(admin.StackedInline):
    model = ChannelPreference
    fields = ("preferred_channels", "email_opt_out", "sms_opt_out", "stated_by", "stated_at", "note", "recorded_by")
    readonly_fields = ("recorded_by",)
    extra = 0
    max_num = 1
    can_delete = False


class CareFlagInline(admin.TabularInline):
    model = CareFlag
    fields = ("source", "reason", "starts_on", "ends_on", "created_by")
    readonly_fields = ("created_by",)
    extra = 0
    can_delete = False  # end a flag with an end date: the history of care is part of the record


def _stamp_user(instances, user) -> None:
    """Who recorded a preference or a care flag: the clerk saving the form."""
    for instance in instances:
        if isinstance(instance, ChannelPreference):
            instance.recorded_by = user
        elif isinstance(instance, CareFlag) and instance.created_by_id is None:
            instance.created_by = user


@admin.register(Debtor)
class DebtorAdmin(admin.ModelAdmin):
    list_display = ("name", "source_reference", "postal_code", "city", "language", "kind")
    list_filter = ("kind", "language", ActiveCareFlagFilter, OpenClaimsFilter)
    search_fields = ("surname", "given_name", "=source_reference", "=email")
    search_help_text = _("Name, debtor number, e-mail address, postal code or a claim's payment reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts scan the whole table
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = (ChannelPreferenceInline, CareFlagInline, ClaimInline)
    readonly_fields = ("anonymised_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("kind", "source_reference", "given_name", "surname_prefix", "surname", "language")}),
        (_("Postal address"), {"fields": ("street", "house_number", "postal_code", "city", "country")}),
        (_("E-mail and phone"), {"fields": ("email", "email_invalid_since", "phone", "phone_invalid_since")}),
        (_("Record"), {"fields": ("anonymised_at", "created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("name"), ordering="surname")
    def name(self, debtor: Debtor) -> str:
        return debtor.display_name

    def get_search_results(self, request, queryset, search_term):
        """Postal codes match with or without the space ("1234AB" finds "1234 AB"); a payment reference
        (however written) finds the debtor of that claim."""
        postal = _POSTAL_CODE.match(search_term)
        if postal:
            digits, letters = postal.group(1), postal.group(2).upper()
            matches = queryset.filter(
                Q(postal_code__iexact=f"{digits} {letters}") | Q(postal_code__iexact=digits + letters)
            )
            return matches, False
        reference = payment_reference_normalise(search_term)
        if reference.isdigit() and len(reference) >= 7:
            claims = Claim.objects.filter(debtor=OuterRef("pk"), payment_reference__startswith=reference)
            return queryset.filter(Q(Exists(claims)) | Q(source_reference=search_term.strip())), False
        return super().get_search_results(request, queryset, search_term)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        _stamp_user(instances, request.user)
        for instance in instances:
            instance.save()
        formset.save_m2m()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.user.has_perm("auditlog.view_logentry") and object_id and str(object_id).isdigit():
            # "Who viewed or changed this debtor" in one click, for those who may read the trail.
            extra_context = {**(extra_context or {}), "audit_trail_url": debtor_trail_url(int(object_id))}
        response = super().change_view(request, object_id, form_url, extra_context)
        debtor = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and debtor is not None:
            accessed.send(sender=debtor.__class__, instance=debtor)
        return response


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(admin.ModelAdmin):
    list_display = ("debtor", "preferred_channels", "email_opt_out", "sms_opt_out", "stated_by", "stated_at")
    list_filter = ("email_opt_out", "sms_opt_out", "stated_by")
    search_fields = ("=debtor__source_reference", "debtor__surname")
    list_select_related = ("debtor",)
    raw_id_fields = ("debtor",)
    readonly_fields = ("recorded_by",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def save_model(self, request, obj, form, change):
        _stamp_user([obj], request.user)
        super().save_model(request, obj, form, change)


class CareFlagActiveFilter(admin.SimpleListFilter):
    title = _("active")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Active today")), ("no", _("Ended or not yet started"))]

    def queryset(self, request, queryset):
        active = CareFlag.active_q(timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.exclude(active)
        return queryset


@admin.register(CareFlag)
class CareFlagAdmin(admin.ModelAdmin):
    list_display = ("debtor", "source", "reason", "starts_on", "ends_on")
    list_filter = (CareFlagActiveFilter, "source", "reason")
    search_fields = ("=debtor__source_reference", "debtor__surname")
    list_select_related = ("debtor",)
    raw_id_fields = ("debtor",)
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "starts_on"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def save_model(self, request, obj, form, change):
        _stamp_user([obj], request.user)
        super().save_model(request, obj, form, change)
