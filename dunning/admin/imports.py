"""Claim import in the admin: upload a CSV, see what it would do (per-row errors), then confirm.

The same service as `import_claims` (dunning.services.claim_import). Between preview and confirm the
file travels back in a hidden field, so nothing with personal data is parked on the server; big
files belong to the command.
"""

import base64
import binascii

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from dunning.admin.base import ReadOnlyAdminMixin
from dunning.models import ClaimImport
from dunning.services.claim_import import (
    COLUMNS,
    REQUIRED_COLUMNS,
    ImportFileError,
    claims_import,
    claims_import_errors_csv,
)

# The file comes back base64-encoded in the confirm form; Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
# must hold it.
MAX_UPLOAD_BYTES = 1_500_000
PERMISSION = "dunning.add_claim"


class ClaimImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), required=False)
    skip_invalid = forms.BooleanField(label=_("Store the good rows and skip the rows with errors"), required=False)
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    filename = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(
                    _("The file is larger than %(size)s MB: import it with the import_claims command.")
                    % {"size": MAX_UPLOAD_BYTES / 1_000_000}
                )
            data["raw"] = upload.read()
            data["filename"] = upload.name
        elif data.get("content"):
            try:
                data["raw"] = base64.b64decode(data["content"], validate=True)
            except (binascii.Error, ValueError):
                raise forms.ValidationError(_("The file got lost on the way; please upload it again."))
        else:
            raise forms.ValidationError(_("Choose a CSV file."))
        return data


@admin.register(ClaimImport)
class ClaimImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The admin index entry "Claim imports (CSV)"; its only page is the import."""

    def has_module_permission(self, request):
        return request.user.has_perm(PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERMISSION)

    def get_urls(self):
        return [path("", self.admin_site.admin_view(self.import_view), name="dunning_claimimport_changelist")]

    def import_view(self, request: HttpRequest):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        form = ClaimImportForm(request.POST or None, request.FILES or None)
        context = {"form": form, "columns": COLUMNS, "required_columns": REQUIRED_COLUMNS}
        if request.method == "POST" and form.is_valid():
            raw, skip_invalid = form.cleaned_data["raw"], form.cleaned_data["skip_invalid"]
            confirm = "confirm" in request.POST
            try:
                result = claims_import(data=raw, dry_run=not confirm, skip_invalid=skip_invalid, actor=request.user)
            except ImportFileError as error:
                context["file_error"] = str(error)
            else:
                if "errors_csv" in request.POST:
                    response = HttpResponse(claims_import_errors_csv(result), content_type="text/csv; charset=utf-8")
                    response["Content-Disposition"] = 'attachment; filename="rejected-rows.csv"'
                    return response
                if result.stored:
                    self.message_user(request, self._summary(result), messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:dunning_claim_changelist"))
                context.update(
                    result=result,
                    can_confirm=bool(result.accepted) and (skip_invalid or not result.rejected),
                    confirm_form=ClaimImportForm(
                        initial={
                            "content": base64.b64encode(raw).decode(),
                            "filename": form.cleaned_data.get("filename", ""),
                            "skip_invalid": skip_invalid,
                        }
                    ),
                    filename=form.cleaned_data.get("filename", ""),
                )
        return TemplateResponse(
            request,
            "admin/dunning/import/claims.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("Import claims from CSV"),
                **context,
            },
        )

    @staticmethod
    def _summary(result) -> str:
        text = _(
            "Imported %(rows)s rows. Debtors: %(dc)s created, %(du)s updated, %(dn)s unchanged. "
            "Claims: %(cc)s created, %(cu)s updated, %(cn)s unchanged."
        ) % {
            "rows": len(result.accepted),
            "dc": result.debtors["created"],
            "du": result.debtors["updated"],
            "dn": result.debtors["unchanged"],
            "cc": result.claims["created"],
            "cu": result.claims["updated"],
            "cn": result.claims["unchanged"],
        }
        if result.rejected:
            text += " " + _("%(n)s rows with errors were skipped.") % {"n": len(result.rejected)}
        return text
