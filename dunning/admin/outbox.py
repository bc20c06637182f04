"""The outbox for clerks: every message, read-only, with retry/cancel for failed ones and today's overview."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dunning.admin.base import ReadOnlyAdminMixin
from dunning.models import DeliveryEvent, Message
from dunning.selectors.outbox import outbox_today
from dunning.services.dispatch import message_cancel, message_retry


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "kind", "is_hard_bounce", "description")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/dunning/message/change_list.html"
    list_display = (
        "pk",
        "claim_reference",
        "step_kind",
        "channel",
        "tone",
        "segment",
        "status",
        "scheduled_for",
        "sent_at",
        "attempts",
        "short_error",
        "letter",
    )
    list_filter = ("status", "channel", "step__kind", "tone", "segment")
    search_fields = ("claim__payment_reference", "provider_id")
    list_select_related = ("claim", "step", "segment")
    show_full_result_count = False
    date_hierarchy = "scheduled_for"
    inlines = [DeliveryEventInline]
    actions = ["retry_failed", "cancel_messages"]
    readonly_fields = ("letter",)
    fieldsets = (
        (None, {"fields": ("claim", "step", "status", "cancel_reason", "scheduled_for", "sent_at")}),
        (
            _("Why this message"),
            {
                "fields": (
                    "segment",
                    "segment_version",
                    "tone",
                    "channel",
                    "language",
                    "template",
                    "template_version",
                    "experiment_variant",
                )
            },
        ),
        (
            _("Delivery"),
            {
                "fields": (
                    "recipient",
                    "provider_id",
                    "cost",
                    "attempts",
                    "last_error",
                    "delivered_at",
                    "opened_at",
                    "clicked_at",
                    "bounced_at",
                    "fallback_for",
                    "bundled_into",
                    "print_batch",
                    "letter",
                )
            },
        ),
        (_("Content"), {"fields": ("subject", "body")}),
    )

    def has_retry_permission(self, request):
        return request.user.has_perm("dunning.change_message")

    @admin.display(description=_("claim"), ordering="claim__payment_reference")
    def claim_reference(self, obj):
        return obj.claim.payment_reference

    @admin.display(description=_("step"), ordering="step__kind")
    def step_kind(self, obj):
        return obj.step.get_kind_display()

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return (obj.last_error[:60] + "…") if len(obj.last_error) > 60 else obj.last_error

    @admin.display(description=_("letter PDF"))
    def letter(self, obj):
        if not obj.document:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("letter-download", args=[obj.pk]), _("download"))

    @admin.action(permissions=["retry"], description=_("Send failed messages again"))
    def retry_failed(self, request, queryset):
        done = sum(message_retry(message=m, actor=request.user) for m in queryset.filter(status=Message.Status.FAILED))
        self.message_user(request, _("%(n)s message(s) will be sent again in the next send window.") % {"n": done})

    @admin.action(permissions=["retry"], description=_("Cancel failed or planned messages"))
    def cancel_messages(self, request, queryset):
        done = sum(
            message_cancel(message=m, reason="cancelled by clerk", actor=request.user)
            for m in queryset.filter(status__in=[Message.Status.FAILED, Message.Status.PLANNED])
        )
        level = messages.SUCCESS if done else messages.WARNING
        self.message_user(request, _("%(n)s message(s) cancelled.") % {"n": done}, level)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "outbox_today": outbox_today(now=timezone.now())}
        return super().changelist_view(request, extra_context=extra_context)
