"""The clerk's claim pages: a list that stays fast at a million rows, and a claim page with its timeline.

State (status, open amount, costs, settled at) is read-only here: payments, pauses and the engine change
it through services, and a clerk ends a claim only with the cancel / write-off actions.
"""

from datetime import timedelta

from auditlog.signals import accessed
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import Debtor
from dunning.models import Claim
from dunning.references import payment_reference_format, payment_reference_normalise
from dunning.selectors.timeline import claim_timeline
from dunning.services.claims import ClaimStatusError, claim_cancel, claim_write_off


class EstimatedCountPaginator(Paginator):
    """A paginator that never counts a million rows.

    Unfiltered lists on PostgreSQL take the planner's estimate (pg_class.reltuples); everything else is
    counted up to `count_cap` rows, and a longer result shows as `count_cap` (refine the filter to see
    further). Both are cheap whatever the table size.
    """

    count_cap = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor == "postgresql" and not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
                )
                row = cursor.fetchone()
            # reltuples is -1 for a table never analysed; then count the ordinary way (capped).
            if row and row[0] >= self.count_cap:
                return int(row[0])
        return queryset.order_by()[: self.count_cap].count()


class DueDateFilter(admin.SimpleListFilter):
    """Due date in the bands a clerk works in, relative to today."""

    title = _("due date")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue_60", _("Overdue more than 60 days")),
            ("overdue_15", _("Overdue 15 to 60 days")),
            ("overdue_1", _("Overdue 1 to 14 days")),
            ("next_14", _("Due today or within 14 days")),
            ("later", _("Due later")),
            ("this_year", _("Due this year")),
            ("last_year", _("Due last year")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        bands = {
            "overdue_60": Q(due_on__lt=today - timedelta(days=60)),
            "overdue_15": Q(due_on__gte=today - timedelta(days=60), due_on__lt=today - timedelta(days=14)),
            "overdue_1": Q(due_on__gte=today - timedelta(days=14), due_on__lt=today),
            "next_14": Q(due_on__gte=today, due_on__lte=today + timedelta(days=14)),
            "later": Q(due_on__gt=today + timedelta(days=14)),
            "this_year": Q(due_on__year=today.year),
            "last_year": Q(due_on__year=today.year - 1),
        }
        if self.value() in bands:
            return queryset.filter(bands[self.value()])
        return queryset


class DueDateRangeFilter(admin.FieldListFilter):
    """From / until date inputs on a date field (`<field>__gte`, `<field>__lte` in the URL)."""

    template = "admin/dunning/claim/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_gte = f"{field_path}__gte"
        self.lookup_lte = f"{field_path}__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = _("due date from / until")
        # The form submits an empty box as "": that means no bound, not a bad date.
        self.used_parameters = {key: value for key, value in self.used_parameters.items() if value not in ("", [""])}

    def expected_parameters(self):
        return [self.lookup_gte, self.lookup_lte]

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def _value(self, lookup: str) -> str:
        value = self.used_parameters.get(lookup, "")
        return value[-1] if isinstance(value, list) else value

    def choices(self, changelist):
        # One "choice" carrying what the template's small GET form needs; other filters are kept.
        yield {
            "selected": not self.used_parameters,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": _("All"),
            "gte": self._value(self.lookup_gte),
            "lte": self._value(self.lookup_lte),
            "gte_name": self.lookup_gte,
            "lte_name": self.lookup_lte,
            "hidden": [
                (key, value)
                for key, values in changelist.filter_params.items()
                if key not in self.expected_parameters()
                for value in values
            ],
        }


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = (
        "reference_display",
        "debtor_link",
        "kind",
        "open_amount",
        "due_on",
        "status",
    )
    list_display_links = ("reference_display",)
    list_filter = ("status", "kind", "regime", DueDateFilter, ("due_on", DueDateRangeFilter), "policy")
    # Payment references are searched separately (normalised, see get_search_results).
    search_fields = ("=source_reference", "debtor__surname", "debtor__given_name")  # see get_search_results
    search_help_text = _("Payment reference (with or without spaces), source reference or debtor name.")
    list_select_related = ("debtor", "policy")
    list_per_page = 50
    raw_id_fields = ("debtor",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts scan the whole table
    paginator = EstimatedCountPaginator
    actions = ("cancel_claims", "write_off_claims")
    readonly_fields = (
        "status",
        "open_amount",
        "costs_amount",
        "settled_at",
        "schedule_shift_days",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("debtor", "payment_reference", "source_reference", "kind", "regime", "description")}),
        (_("Amounts and dates"), {"fields": ("principal", "open_amount", "costs_amount", "issued_on", "due_on")}),
        (_("Collection"), {"fields": ("policy", "status", "settled_at", "schedule_shift_days")}),
        (_("Record"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("payment reference"), ordering="payment_reference")
    def reference_display(self, claim: Claim) -> str:
        return payment_reference_format(claim.payment_reference)

    @admin.display(description=_("debtor"), ordering="debtor__surname")
    def debtor_link(self, claim: Claim) -> str:
        url = reverse("admin:customers_debtor_change", args=[claim.debtor_id])
        return format_html('<a href="{}">{}</a>', url, claim.debtor.display_name)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is None:
            # A new claim starts open with nothing paid: open amount follows the principal.
            return fields
        # The principal moves the open amount; corrections go through a service, not this form.
        return (*fields, "principal")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.open_amount = obj.principal
        super().save_model(request, obj, form, change)

    def get_search_results(self, request, queryset, search_term):
        """A payment reference matches however it is written: "5000 0567 8901 2345", "5000.0567..."."""
        digits = payment_reference_normalise(search_term)
        if digits.isdigit() and len(digits) >= 7:
            matches = queryset.filter(Q(payment_reference__startswith=digits) | Q(source_reference=search_term.strip()))
            return matches, False
        term = search_term.strip()
        if not term:
            return queryset, False
        # A source reference is unique: one cheap look-up first. Otherwise names: the matching debtors are
        # found on their own (trigram-indexed on PostgreSQL), then their claims, instead of one OR across
        # the claim-debtor join that scans every claim (bench/RESULTS.md: seconds at a million claims).
        if queryset.filter(source_reference=term).exists():
            return queryset.filter(source_reference=term), False
        debtors = Debtor.objects.all()
        for word in term.split():
            debtors = debtors.filter(Q(surname__icontains=word) | Q(given_name__icontains=word))
        return queryset.filter(debtor_id__in=debtors.values("pk")), False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["timeline"] = claim_timeline(claim=obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        claim = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and claim is not None:
            accessed.send(sender=claim.__class__, instance=claim)
        return response

    def _close_claims(self, request, queryset, *, service, verb: str, title: str):
        """Confirm first (these end collection), then call the service per claim with the clerk as actor."""
        queryset = queryset.select_related("debtor")
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "queryset": queryset,
                "action": request.POST.get("action"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "verb": verb,
            }
            return TemplateResponse(request, "admin/dunning/claim/action_confirmation.html", context)
        changed = skipped = cancelled_messages = 0
        for claim in queryset:
            try:
                result = service(claim=claim, actor=request.user)
            except ClaimStatusError:
                skipped += 1
                continue
            changed += result.changed
            cancelled_messages += result.messages_cancelled
        self.message_user(
            request,
            ngettext(
                "%(count)d claim %(verb)s; %(messages)d pending messages stopped.",
                "%(count)d claims %(verb)s; %(messages)d pending messages stopped.",
                changed,
            )
            % {"count": changed, "verb": verb, "messages": cancelled_messages},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d claim skipped: it is no longer open.",
                    "%(count)d claims skipped: they are no longer open.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        return None

    @admin.action(description=_("Cancel selected claims (issued in error)"), permissions=["change"])
    def cancel_claims(self, request, queryset):
        return self._close_claims(
            request, queryset, service=claim_cancel, verb=_("cancelled"), title=_("Cancel claims")
        )

    @admin.action(description=_("Write off selected claims"), permissions=["change"])
    def write_off_claims(self, request, queryset):
        return self._close_claims(
            request, queryset, service=claim_write_off, verb=_("written off"), title=_("Write off claims")
        )
