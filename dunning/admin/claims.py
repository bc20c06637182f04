from django.contrib import admin

from dunning.models import Claim


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ("payment_reference", "debtor", "kind", "regime", "open_amount", "due_on", "status")
    list_filter = ("status", "kind", "regime", "policy")
    search_fields = ("payment_reference", "source_reference", "debtor__surname")
    list_select_related = ("debtor",)
    raw_id_fields = ("debtor",)
    show_full_result_count = False
