"""Compliance pages inside the admin: the register of processing and personal data per template.

Thin: each view checks a permission, asks a selector, and renders or exports.
"""

import csv
import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.selectors import register_of_processing, register_rows, template_minimisation


def _change_url(obj) -> str | None:
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def register_view(request):
    """GDPR art. 30: generated from segments, models, backends and retention rules; ?format=csv|json exports."""
    _require(request, "compliance.view_retentionrule")
    register = register_of_processing()
    export = request.GET.get("format")
    stamp = f"{timezone.localdate():%Y%m%d}"
    if export == "json":
        response = HttpResponse(
            json.dumps(register, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="register-of-processing-{stamp}.json"'
        return response
    if export == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="register-of-processing-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["section", "item", "detail"])
        writer.writerows(register_rows(register))
        return response
    context = {
        **admin.site.each_context(request),
        "title": _("Register of processing (art. 30 GDPR)"),
        "register": register,
    }
    return TemplateResponse(request, "admin/compliance/register.html", context)


def minimisation_view(request):
    """Per active template: which allowlisted variables it uses, which of them are personal data."""
    _require(request, "campaigns.view_messagetemplate")
    from campaigns.models import MessageTemplate
    from campaigns.variables import VARIABLES

    rows = [
        {"template": template, "url": _change_url(template), **template_minimisation(template)}
        for template in MessageTemplate.objects.filter(is_active=True)
    ]
    personal = [v for v in VARIABLES.values() if v.personal]
    context = {
        **admin.site.each_context(request),
        "title": _("Personal data per template"),
        "rows": rows,
        "personal_variables": personal,
    }
    return TemplateResponse(request, "admin/compliance/minimisation.html", context)
