"""Payments in the back office: the clerk queue of unmatched payments, matching, and statement upload.

Thin: the match form and the upload call services (`payment_match`, `bank_statement_import`) with the
clerk as actor and report with `message_user`. Payment fields are read-only; a payment changes only by
being matched.
"""

import base64
import binascii

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from dunning.admin.base import ReadOnlyAdminMixin
from dunning.models import Claim, MolliePayment, Payment
from dunning.references import payment_reference_normalise
from dunning.services.bank_statements import StatementError, bank_statement_import
from dunning.services.payments import PaymentMatchError, payment_match

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("unmatched", _("Waiting for a clerk (unmatched)")),
            ("refund", _("Refund due (overpaid or on a settled claim)")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "unmatched":
            return queryset.filter(match_status=Payment.MatchStatus.UNMATCHED)
        if self.value() == "refund":
            return queryset.filter(
                Q(match_status__in=[Payment.MatchStatus.OVERPAID, Payment.MatchStatus.ON_SETTLED]),
                refund_amount__gt=0,
            )
        return queryset


class PaymentMatchForm(forms.Form):
    claim_reference = forms.CharField(
        label=_("Payment reference of the claim"),
        max_length=40,
        help_text=_("The betalingskenmerk, with or without spaces."),
    )

    def clean_claim_reference(self):
        value = payment_reference_normalise(self.cleaned_data["claim_reference"])
        claim = Claim.objects.filter(payment_reference=value).select_related("debtor").first()
        if claim is None:
            raise forms.ValidationError(_("No claim has this payment reference."))
        self.claim = claim
        return value


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=_("Bank statement (CAMT.053 XML or MT940)"), required=False)
    content = forms.CharField(widget=forms.HiddenInput, required=False)  # carried from preview to confirm
    filename = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(_("The file is larger than 10 MB."))
            data["raw"] = upload.read()
            data["filename"] = upload.name
        elif data.get("content"):
            try:
                data["raw"] = base64.b64decode(data["content"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise forms.ValidationError(_("The preview expired; upload the file again.")) from exc
        else:
            raise forms.ValidationError(_("Choose a file."))
        return data


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "paid_at",
        "amount",
        "source",
        "reference_text",
        "payer_name",
        "match_status",
        "claim",
        "refund_amount",
        "match_link",
    )
    list_filter = (QueueFilter, "match_status", "source")
    search_fields = ("external_id", "reference_text", "payer_name", "claim__payment_reference")
    list_select_related = ("claim",)
    date_hierarchy = "paid_at"
    show_full_result_count = False
    actions = ["match_selected"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    change_list_template = "admin/dunning/payment/change_list.html"

    def has_match_permission(self, request):
        return request.user.has_perm("dunning.match_payment")

    @admin.display(description=_("match"))
    def match_link(self, obj):
        from django.utils.html import format_html

        if obj.match_status != Payment.MatchStatus.UNMATCHED:
            return ""
        url = reverse("admin:dunning_payment_match", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Match"))

    @admin.action(permissions=["match"], description=_("Match the selected payment to a claim"))
    def match_selected(self, request, queryset):
        unmatched = list(queryset.filter(match_status=Payment.MatchStatus.UNMATCHED)[:2])
        if len(unmatched) != 1:
            self.message_user(request, _("Select exactly one unmatched payment to match."), messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:dunning_payment_match", args=[unmatched[0].pk]))

    def get_urls(self):
        own = [
            path("<int:pk>/match/", self.admin_site.admin_view(self.match_view), name="dunning_payment_match"),
            path(
                "import-statement/",
                self.admin_site.admin_view(self.import_view),
                name="dunning_payment_import_statement",
            ),
        ]
        return own + super().get_urls()

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def match_view(self, request: HttpRequest, pk: int):
        if not self.has_match_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment, pk=pk)
        form = PaymentMatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = payment_match(payment_id=payment.pk, claim_id=form.claim.pk, actor=request.user)
            except PaymentMatchError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Payment € %(amount)s matched to %(claim)s: %(status)s.")
                    % {
                        "amount": payment.amount,
                        "claim": form.claim,
                        "status": result.payment.get_match_status_display(),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:dunning_payment_changelist") + "?queue=unmatched")
        return TemplateResponse(
            request,
            "admin/dunning/payment/match.html",
            self._context(request, _("Match payment to a claim"), payment=payment, form=form),
        )

    def import_view(self, request: HttpRequest):
        if not self.has_match_permission(request):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["raw"]
            filename = form.cleaned_data.get("filename") or ""
            confirm = "confirm" in request.POST
            try:
                report = bank_statement_import(content=raw, filename=filename, dry_run=not confirm, actor=request.user)
            except StatementError as exc:
                self.message_user(request, _("%(file)s: %(error)s. Nothing was stored.") % {
                    "file": filename or _("the file"), "error": exc}, messages.ERROR)  # fmt: skip
            else:
                if confirm:
                    counts = ", ".join(f"{key} {value}" for key, value in report.counts.items())
                    self.message_user(request, _("Statement imported: %s.") % counts, messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:dunning_payment_changelist"))
                form = StatementUploadForm(initial={"content": base64.b64encode(raw).decode(), "filename": filename})
        return TemplateResponse(
            request,
            "admin/dunning/payment/import_statement.html",
            self._context(request, _("Import a bank statement"), form=form, report=report),
        )


@admin.register(MolliePayment)
class MolliePaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("mollie_id", "claim", "amount", "status", "expires_at", "created_at")
    list_filter = ("status",)
    search_fields = ("mollie_id", "claim__payment_reference")
    list_select_related = ("claim",)
    readonly_fields = [f.name for f in MolliePayment._meta.fields]
    show_full_result_count = False
