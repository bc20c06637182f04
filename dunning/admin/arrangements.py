"""Payment arrangements: agreed by a clerk, followed by the daily job, cancelled only when a person confirms."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from dunning.models import Instalment, PaymentArrangement
from dunning.services.arrangements import (
    ArrangementError,
    arrangement_cancel_confirm,
    arrangement_create,
    arrangement_keep,
)


class InstalmentInline(admin.TabularInline):
    model = Instalment
    extra = 0
    can_delete = False
    fields = ("number", "due_on", "amount", "paid_amount", "status", "missed_at", "reminder_status")
    readonly_fields = fields

    @admin.display(description=_("reminder"))
    def reminder_status(self, obj):
        reminder = getattr(obj, "reminder", None)
        return f"{reminder.get_channel_display()}: {reminder.get_status_display()}" if reminder else "-"

    def has_add_permission(self, request, obj=None):
        return False


class ArrangementAddForm(forms.ModelForm):
    count = forms.IntegerField(label=_("number of monthly instalments"), min_value=1, max_value=60, initial=6)
    first_due_on = forms.DateField(label=_("first instalment due on"))

    class Meta:
        model = PaymentArrangement
        fields = ("claims", "note")

    def clean(self):
        cleaned = super().clean()
        claims = list(cleaned.get("claims") or [])
        if claims and len({c.debtor_id for c in claims}) != 1:
            raise forms.ValidationError(_("All claims of an arrangement belong to one debtor."))
        return cleaned


@admin.register(PaymentArrangement)
class PaymentArrangementAdmin(admin.ModelAdmin):
    list_display = ("__str__", "debtor", "total", "starts_on", "status", "created_by", "pending_since")
    list_filter = ("status",)
    search_fields = ("debtor__surname", "claims__payment_reference")
    list_select_related = ("debtor", "created_by")
    raw_id_fields = ("claims",)
    inlines = [InstalmentInline]
    actions = ["confirm_cancellation", "keep_arrangement"]
    show_full_result_count = False

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ArrangementAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("claims", "count", "first_due_on", "note")
        return ("debtor", "claims_list", "total", "starts_on", "status", "note", "created_by", "pending_since",
                "closed_at", "closed_by")  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("debtor", "claims_list", "total", "starts_on", "status", "created_by", "pending_since", "closed_at",
                "closed_by")  # fmt: skip

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    @admin.display(description=_("claims"))
    def claims_list(self, obj):
        return format_html_join(", ", "{}", ((c.payment_reference,) for c in obj.claims.all()))

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["note"])
            return
        try:
            created = arrangement_create(
                claims=list(form.cleaned_data["claims"]),
                count=form.cleaned_data["count"],
                first_due_on=form.cleaned_data["first_due_on"],
                note=form.cleaned_data.get("note", ""),
                actor=request.user,
            )
        except ArrangementError as exc:
            raise forms.ValidationError(str(exc)) from exc
        obj.pk = created.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
        # On add, arrangement_create already linked the claims.

    @admin.action(permissions=["change"], description=_("Confirm cancellation (dunning resumes)"))
    def confirm_cancellation(self, request, queryset):
        self._decide(request, queryset, arrangement_cancel_confirm, _("cancelled; dunning resumes"))

    @admin.action(permissions=["change"], description=_("Keep the arrangement (new date for missed instalments)"))
    def keep_arrangement(self, request, queryset):
        self._decide(request, queryset, arrangement_keep, _("kept"))

    def _decide(self, request, queryset, service, done_text):
        now = timezone.now()
        for arrangement in queryset:
            try:
                service(arrangement=arrangement, actor=request.user, now=now)
            except ArrangementError as exc:
                self.message_user(request, f"{arrangement}: {exc}", messages.WARNING)
            else:
                self.message_user(request, f"{arrangement}: {done_text}", messages.SUCCESS)
