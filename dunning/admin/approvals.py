"""The approval queue: team leads decide escalations; the page shows why, care-flagged debtors stand out."""

from auditlog.signals import accessed
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dunning.models import EscalationProposal
from dunning.selectors.approvals import proposal_overview, proposals_queue
from dunning.services.approvals import ApprovalError, proposal_approve, proposal_reject, proposals_approve_bulk


class CareFilter(admin.SimpleListFilter):
    title = _("care flag")
    parameter_name = "care"

    def lookups(self, request, model_admin):
        return (("yes", _("Active care flag (two approvers)")), ("no", _("No care flag")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(care=True)
        if self.value() == "no":
            return queryset.filter(care=False)
        return queryset


@admin.register(EscalationProposal)
class EscalationProposalAdmin(admin.ModelAdmin):
    list_display = (
        "care_marker",
        "claim",
        "debtor",
        "action",
        "step",
        "proposed_costs",
        "status",
        "first_decided_by",
        "second_decided_by",
        "created_at",
    )
    list_display_links = ("claim",)
    list_filter = ("status", CareFilter, "needs_second_approval", "action")
    search_fields = ("claim__payment_reference", "claim__debtor__surname")
    list_select_related = ("claim__debtor", "step__policy", "first_decided_by", "second_decided_by")
    actions = ["approve_selected"]
    show_full_result_count = False
    readonly_fields = (
        "claim",
        "step",
        "message",
        "action",
        "proposed_costs",
        "status",
        "needs_second_approval",
        "first_decided_by",
        "first_decided_at",
        "second_decided_by",
        "second_decided_at",
        "decision_reason",
        "created_at",
    )

    def get_queryset(self, request):
        return proposals_queue(now=timezone.now()).select_related(*self.list_select_related)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request, obj=None):
        return request.user.has_perm("dunning.decide_escalationproposal")

    @admin.display(description="", ordering="care")
    def care_marker(self, obj):
        if getattr(obj, "care", False) or obj.needs_second_approval:
            return format_html('<strong class="care-flag" title="{}">⚠ {}</strong>', _("Two approvers"), _("Care"))
        return ""

    @admin.display(description=_("debtor"), ordering="claim__debtor__surname")
    def debtor(self, obj):
        return obj.claim.debtor.display_name

    def get_urls(self):
        return [
            path(
                "<int:object_id>/decide/",
                self.admin_site.admin_view(require_POST(self.decide_view)),
                name="dunning_escalationproposal_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = get_object_or_404(EscalationProposal.objects.select_related("claim__debtor", "step"), pk=object_id)
        accessed.send(sender=proposal.claim.debtor.__class__, instance=proposal.claim.debtor)
        context = {
            **(extra_context or {}),
            **proposal_overview(proposal=proposal, now=timezone.now()),
            "proposal": proposal,
            "can_decide": self.has_decide_permission(request) and proposal.status == EscalationProposal.Status.PENDING,
            "decide_url": reverse("admin:dunning_escalationproposal_decide", args=[proposal.pk]),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def decide_view(self, request, object_id):
        if not self.has_decide_permission(request):
            raise PermissionDenied
        proposal = get_object_or_404(EscalationProposal, pk=object_id)
        reason = request.POST.get("reason", "").strip()
        try:
            if request.POST.get("decision") == "reject":
                proposal_reject(proposal=proposal, actor=request.user, reason=reason)
                self.message_user(request, _("Rejected; the message will not be sent."), messages.SUCCESS)
            else:
                decision = proposal_approve(proposal=proposal, actor=request.user, reason=reason)
                if decision.final:
                    self.message_user(request, _("Approved; the step is carried out."), messages.SUCCESS)
                else:
                    self.message_user(
                        request, _("First approval recorded; a second team lead must approve."), messages.WARNING
                    )
        except ApprovalError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:dunning_escalationproposal_change", args=[proposal.pk]))

    @admin.action(permissions=["decide"], description=_("Approve the selected proposals (each in your name)"))
    def approve_selected(self, request, queryset):
        result = proposals_approve_bulk(proposals=list(queryset), actor=request.user)
        if result.approved:
            self.message_user(request, _("%d approved.") % len(result.approved), messages.SUCCESS)
        if result.awaiting_second:
            self.message_user(
                request,
                _("%d need a second, different approver (care flag).") % len(result.awaiting_second),
                messages.WARNING,
            )
        for proposal, error in result.refused:
            self.message_user(request, f"{proposal}: {error}", messages.ERROR)
