"""Pauses: a clerk sets one with a reason; it cancels planned messages at once; ending it resumes the schedule."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dunning.models import Pause
from dunning.services.pauses import PauseError, pause_end, pause_start


class PauseForm(forms.ModelForm):
    class Meta:
        model = Pause
        fields = ("claim", "debtor", "reason", "starts_at", "ends_at", "note")


@admin.register(Pause)
class PauseAdmin(admin.ModelAdmin):
    form = PauseForm
    list_display = ("__str__", "claim", "debtor", "reason", "starts_at", "ends_at", "created_by", "is_active")
    list_filter = ("reason",)
    search_fields = ("claim__payment_reference", "debtor__surname", "claim__debtor__surname")
    list_select_related = ("claim", "debtor", "created_by")
    raw_id_fields = ("claim", "debtor")
    actions = ["end_now"]
    show_full_result_count = False

    @admin.display(boolean=True, description=_("active now"))
    def is_active(self, obj):
        return obj.is_active_at(timezone.now())

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("created_by",)
        # Only the note changes by hand; the end goes through "End now" so the schedule shift is applied.
        return ("claim", "debtor", "reason", "starts_at", "ends_at", "created_by", "ended_by", "resumed_at")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["note"])
            return
        try:
            result = pause_start(
                claim=obj.claim,
                debtor=obj.debtor,
                reason=obj.reason,
                starts_at=obj.starts_at,
                ends_at=obj.ends_at,
                note=obj.note,
                actor=request.user,
            )
        except PauseError as exc:  # the form's model validation normally catches these first
            raise forms.ValidationError(str(exc)) from exc
        obj.pk = result.pause.pk
        obj._state.adding = False
        self.message_user(
            request,
            _("Pause set: %(messages)d planned message(s) cancelled, %(proposals)d proposal(s) withdrawn.")
            % {"messages": result.messages_cancelled, "proposals": result.proposals_withdrawn},
        )

    @admin.action(permissions=["change"], description=_("End the selected pauses now (the schedule resumes)"))
    def end_now(self, request, queryset):
        now = timezone.now()
        ended = 0
        for pause in queryset:
            if pause.ends_at is not None and pause.ends_at <= now:
                continue
            pause_end(pause=pause, ends_at=now, actor=request.user, now=now)
            ended += 1
        self.message_user(request, ngettext("%d pause ended.", "%d pauses ended.", ended) % ended, messages.SUCCESS)
