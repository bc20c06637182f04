"""What team leads edit: segments (validated rules, "explain for a debtor"), templates (allowlist, SMS
length, preview on a demo debtor), policies with their steps and per-segment overrides.

Saves go through campaigns.services so versions go up when rules or texts change.
"""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from campaigns import admin_experiments  # noqa: F401
from campaigns.models import DunningPolicy, MessageTemplate, PolicyStep, Segment, StepOverride
from campaigns.rules import ATTRIBUTES, OPERATOR_LABELS, validate_rules
from campaigns.services import segment_create, segment_update, template_create, template_update
from campaigns.templating import render_preview, sms_length, template_variables
from campaigns.variables import allowed_variables, personal_variables
from customers.models import Channel


def _channels_clean(value) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or any(c not in Channel.values for c in value):
        raise ValidationError(
            _("Give an ordered list of channels from: %(channels)s."), params={"channels": ", ".join(Channel.values)}
        )
    return value


# ------------------------------------------------------------------------------------------------ segments


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ("name", "purpose", "rules", "priority", "is_default", "is_active")
        help_texts = {
            "rules": _(
                'All conditions must hold, e.g. [{"attribute": "on_time_share_24m", "operator": "gte", "value": 0.9}]. '
                "Operators: eq, ne, lt, lte, gt, gte, in (a list)."
            )
        }

    def clean_rules(self):
        return validate_rules(self.cleaned_data.get("rules"))


class ExplainForm(forms.Form):
    debtor = forms.CharField(label=_("Debtor (id or source reference)"))


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ("name", "priority", "is_default", "is_active", "version", "rules_text", "updated_at")
    list_filter = ("is_active", "is_default")
    search_fields = ("name", "purpose")
    readonly_fields = ("version", "attribute_help")
    fields = ("name", "purpose", "rules", "attribute_help", "priority", "is_default", "is_active", "version")
    change_list_template = "admin/campaigns/segment/change_list.html"

    @admin.display(description=_("rules"))
    def rules_text(self, obj):
        if obj.is_default:
            return _("everyone else")
        return " & ".join(
            f"{c['attribute']} {OPERATOR_LABELS.get(c['operator'], c['operator'])} {c['value']}" for c in obj.rules
        )

    @admin.display(description=_("attributes you can use"))
    def attribute_help(self, obj=None):
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code> ({}; {}): {}</li>",
                ((a.name, a.type, ", ".join(a.operators), a.description) for a in ATTRIBUTES.values()),
            ),
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
        if change:
            changed = {name: data[name] for name in form.changed_data if name in data}
            saved = segment_update(segment=obj, actor=request.user, **changed)
        else:
            saved = segment_create(actor=request.user, **data)
        obj.pk, obj.version = saved.pk, saved.version

    def get_urls(self):
        return [
            path("explain/", self.admin_site.admin_view(self.explain_view), name="campaigns_segment_explain"),
            *super().get_urls(),
        ]

    def explain_view(self, request):
        """Which segment a debtor is in and why: each condition with the value used (GDPR art. 22)."""
        from auditlog.signals import accessed

        from customers.models import Debtor
        from dunning.selectors.segments import segment_explain

        if not request.user.has_perm("campaigns.view_segment") or not request.user.has_perm("customers.view_debtor"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ExplainForm(request.GET or None)
        explanation = debtor = None
        if form.is_valid():
            needle = form.cleaned_data["debtor"].strip()
            lookup = {"pk": int(needle)} if needle.isdigit() else {"source_reference": needle}
            debtor = Debtor.objects.filter(**lookup).first()
            if debtor is None:
                form.add_error("debtor", _("No debtor found."))
            else:
                accessed.send(sender=Debtor, instance=debtor)
                explanation = segment_explain(debtor=debtor, now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Explain segment for a debtor"),
            "form": form,
            "debtor": debtor,
            "explanation": explanation,
        }
        return TemplateResponse(request, "admin/campaigns/segment/explain.html", context)


# ----------------------------------------------------------------------------------------------- templates


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ("step_kind", "tone", "channel", "language", "subject", "body", "is_active")

    def clean(self):
        cleaned = super().clean()
        from campaigns.templating import template_check

        if all(cleaned.get(name) is not None for name in ("step_kind", "channel", "body")):
            template_check(
                step_kind=cleaned["step_kind"],
                channel=cleaned["channel"],
                subject=cleaned.get("subject") or "",
                body=cleaned["body"],
            )
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("step_kind", "tone", "channel", "language", "version", "is_active", "updated_at")
    list_filter = ("step_kind", "tone", "channel", "language", "is_active")
    search_fields = ("subject", "body")
    readonly_fields = ("version", "allowed", "personal_data", "sms_info", "preview")

    def get_fields(self, request, obj=None):
        fields = ["step_kind", "tone", "channel", "language", "subject", "body", "is_active", "allowed"]
        return [*fields, "version", "personal_data", "sms_info", "preview"] if obj else fields

    @admin.display(description=_("variables you can use"))
    def allowed(self, obj=None):
        kinds = [obj.step_kind] if obj and obj.pk else None
        if kinds is None:
            return _("Depends on the step kind; the form names any variable that is not allowed.")
        return ", ".join("{{ " + name + " }}" for name in sorted(allowed_variables(kinds[0])))

    @admin.display(description=_("personal data used"))
    def personal_data(self, obj):
        try:
            names = template_variables(obj.subject) | template_variables(obj.body)
        except Exception as error:  # an old, invalid template: say so instead of crashing the page
            return str(error)
        return ", ".join(personal_variables(names)) or _("none")

    @admin.display(description=_("SMS length"))
    def sms_info(self, obj):
        if obj.channel != Channel.SMS:
            return "-"
        _subject, body = render_preview(step_kind=obj.step_kind, subject="", body=obj.body)
        length = sms_length(body)
        return _("%(units)s %(encoding)s characters with example values: %(parts)s SMS part(s), max %(max)s") % {
            "units": length.units,
            "encoding": length.encoding,
            "parts": length.parts,
            "max": length.max_units,
        }

    @admin.display(description=_("preview (demo debtor)"))
    def preview(self, obj):
        try:
            subject, body = render_preview(step_kind=obj.step_kind, subject=obj.subject, body=obj.body)
        except Exception as error:
            return str(error)
        return format_html(
            '<div style="white-space: pre-wrap; max-width: 60em;"><strong>{}</strong>\n\n{}</div>', subject, body
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.fields}
        if change:
            saved = template_update(template=obj, actor=request.user, **data)
        else:
            saved = template_create(actor=request.user, **data)
        obj.pk, obj.version = saved.pk, saved.version


# -------------------------------------------------------------------------------------- policies and steps


class PolicyStepForm(forms.ModelForm):
    class Meta:
        model = PolicyStep
        fields = ("order", "offset_days", "kind", "channels", "default_tone", "needs_approval")

    def clean_channels(self):
        channels = _channels_clean(self.cleaned_data.get("channels"))
        if not channels:
            raise ValidationError(_("A step needs at least one channel."))
        return channels


class StepOverrideForm(forms.ModelForm):
    class Meta:
        model = StepOverride
        fields = ("segment", "tone", "channels", "offset_days")

    def clean_channels(self):
        return _channels_clean(self.cleaned_data.get("channels"))


class PolicyStepInline(admin.TabularInline):
    model = PolicyStep
    form = PolicyStepForm
    extra = 0
    show_change_link = True  # the step's page holds its per-segment overrides


class StepOverrideInline(admin.TabularInline):
    model = StepOverride
    form = StepOverrideForm
    extra = 0
    autocomplete_fields = ("segment",)


@admin.register(DunningPolicy)
class DunningPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "regime", "is_active", "step_summary", "updated_at")
    list_filter = ("regime", "is_active")
    search_fields = ("name",)
    inlines = [PolicyStepInline]

    @admin.display(description=_("steps"))
    def step_summary(self, obj):
        return " → ".join(f"+{s.offset_days} {s.kind}" for s in obj.steps.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")


@admin.register(PolicyStep)
class PolicyStepAdmin(admin.ModelAdmin):
    form = PolicyStepForm
    list_display = ("__str__", "policy", "kind", "offset_days", "channels_text", "default_tone", "needs_approval")
    list_filter = ("policy", "kind", "needs_approval")
    list_select_related = ("policy",)
    inlines = [StepOverrideInline]

    def get_fields(self, request, obj=None):
        return ["policy", *PolicyStepForm.Meta.fields]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["fields"] = ["policy", *PolicyStepForm.Meta.fields]
        return super().get_form(request, obj, **kwargs)

    @admin.display(description=_("channels"))
    def channels_text(self, obj):
        return json.dumps(obj.channels)
