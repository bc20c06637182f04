"""Cost rates (data team leads keep current), and the evidence of legal notices and charged costs."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dunning.admin.base import ReadOnlyAdminMixin
from dunning.models import ClaimCost, CostRate, LegalNotice
from dunning.selectors.legal import cost_rate_overlaps


class CostRateForm(forms.ModelForm):
    class Meta:
        model = CostRate
        fields = ("regime", "kind", "amount", "valid_from", "valid_until", "band_from", "band_below", "is_verified",
                  "source", "note")  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = CostRate(pk=self.instance.pk, **{k: v for k, v in cleaned.items() if k in _RATE_FIELDS})
        clashes = list(cost_rate_overlaps(candidate)[:3])
        if clashes:
            raise forms.ValidationError(
                _("This rate overlaps in period and amount band with: %(rows)s. End the old row first."),
                params={"rows": "; ".join(str(r) for r in clashes)},
            )
        return cleaned


_RATE_FIELDS = {"regime", "kind", "valid_from", "valid_until", "band_from", "band_below", "amount"}


@admin.register(CostRate)
class CostRateAdmin(admin.ModelAdmin):
    form = CostRateForm
    list_display = ("kind", "regime", "valid_from", "valid_until", "band_from", "band_below", "amount", "is_verified")
    list_filter = ("regime", "kind", "is_verified")
    ordering = ("regime", "kind", "-valid_from", "band_from")
    fieldsets = (
        (None, {"fields": ("regime", "kind", "amount")}),
        (_("Valid for"), {"fields": ("valid_from", "valid_until", "band_from", "band_below")}),
        (_("Source"), {"fields": ("is_verified", "source", "note")}),
    )


class _ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(LegalNotice)
class LegalNoticeAdmin(_ReadOnlyAdmin):
    list_display = ("claim", "kind", "channel", "sent_at", "presumed_received_on", "term_ends_on", "costs_stated")
    list_filter = ("kind", "channel")
    search_fields = ("claim__payment_reference",)
    list_select_related = ("claim",)
    raw_id_fields = ("claim", "message")
    show_full_result_count = False


@admin.register(ClaimCost)
class ClaimCostAdmin(_ReadOnlyAdmin):
    list_display = ("claim", "kind", "amount", "vat_amount", "basis_amount", "charged_at", "charged_by")
    list_filter = ("kind",)
    search_fields = ("claim__payment_reference",)
    list_select_related = ("claim", "charged_by")
    raw_id_fields = ("claim", "notice", "proposal", "rate")
    show_full_result_count = False
