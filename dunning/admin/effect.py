"""Effect in the admin: channel prices, the effect figures page and the dashboard on the admin index.

The views only read (selectors in dunning.selectors.effect) and render; charts are server-side SVG
(dunning.charts), so the pages work without JavaScript.
"""

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from campaigns.models import DunningPolicy, StepKind, Tone
from customers.models import Channel, Debtor
from dunning.admin.base import ReadOnlyAdminMixin
from dunning.charts import Series, bar_chart, line_chart
from dunning.models import ChannelCost, Claim, ClaimKind, EffectFigures
from dunning.selectors.effect import CURVE_DAYS, dashboard_figures, effect_figures, payment_curves

# Demo debtors carry this prefix (dunning.services.demo.DEMO_PREFIX; not imported so that the admin
# does not load the demo generator).
DEMO_PREFIX = "DEMO-"
CHART_PERIOD_DAYS = 365
DASHBOARD_CURVES_CACHE_SECONDS = 600


def data_is_simulated() -> bool:
    """True when the demo municipality is loaded: the UI then says the figures are simulated.
    Only checked with DEBUG (the demo runs there); a production database never holds demo rows."""
    return bool(settings.DEBUG) and Debtor.objects.filter(source_reference__startswith=DEMO_PREFIX).exists()


@admin.register(ChannelCost)
class ChannelCostAdmin(admin.ModelAdmin):
    list_display = ("channel", "price_per_piece", "valid_from", "note")
    list_filter = ("channel",)
    ordering = ("channel", "-valid_from")


class EffectFilterForm(forms.Form):
    # <input type="date"> only takes ISO dates, whatever the page's language.
    start = forms.DateField(label=_("from"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    end = forms.DateField(
        label=_("up to and including"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    policy = forms.ModelChoiceField(
        label=_("policy"), queryset=DunningPolicy.objects.order_by("name"), required=False, empty_label=_("all")
    )
    claim_kind = forms.ChoiceField(label=_("claim kind"), choices=[("", _("all")), *ClaimKind.choices], required=False)
    by_template = forms.BooleanField(label=_("split by template version"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return data


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=CHART_PERIOD_DAYS), today


def _curve_charts(*, start: date, end: date, now, policy=None, claim_kind=None) -> list[dict]:
    charts = []
    for by, labels, title in (
        ("tone", dict(Tone.choices), _("Share paid by day after the message, per tone")),
        ("channel", dict(Channel.choices), _("Share paid by day after the message, per channel")),
    ):
        curves = payment_curves(
            by=by, start=start, end=end, now=now, policy=policy, claim_kind=claim_kind, labels=labels
        )
        svg = line_chart(
            [Series(f"{curve.label} ({curve.sent})", curve.points) for curve in curves],
            title=str(title),
            x_label=str(_("days after the message")),
            y_label=str(_("share paid")),
        )
        charts.append({"by": by, "title": title, "svg": svg, "curves": curves})
    return charts


@admin.register(EffectFigures)
class EffectFiguresAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The effect page: the changelist of this proxy is the table of figures."""

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        start, end = default_period(timezone.localdate(now))
        form = EffectFilterForm(request.GET or None, initial={"start": start, "end": end})
        filters = {"policy": None, "claim_kind": None, "by_template": False}
        if form.is_bound and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            filters = {
                "policy": form.cleaned_data["policy"],
                "claim_kind": form.cleaned_data["claim_kind"] or None,
                "by_template": form.cleaned_data["by_template"],
            }
        report = effect_figures(start=start, end=end, now=now, **filters)
        charts = _curve_charts(
            start=start, end=end, now=now, policy=filters["policy"], claim_kind=filters["claim_kind"]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Effect of reminders"),
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "rows": report.all_rows,
            "start": start,
            "end": end,
            "charts": charts,
            "tones": dict(Tone.choices),
            "channels": dict(Channel.choices),
            "step_kinds": dict(StepKind.choices),
            "simulated": data_is_simulated(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/dunning/effectfigures/effect.html", context)


def dashboard_context(request) -> dict:
    """What the admin index shows above the app list (see templates/admin/index.html)."""
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("dunning.view_claim")):
        return {}
    now = timezone.now()
    today = timezone.localdate(now)
    figures = dashboard_figures(now=now)
    start, end = default_period(today)
    channels = dict(Channel.choices)
    cost_rows = [
        {"channel": channels.get(channel, channel), **values}
        for channel, values in sorted(figures.cost_by_channel.items())
    ]
    outbox_rows = [
        {"channel": channels.get(channel, channel), **values}
        for channel, values in sorted(figures.outbox_today.items())
    ]
    statuses = dict(Claim.Status.choices)
    return {
        "dashboard": figures,
        "claim_status_rows": [
            {"status": statuses.get(status, status), "count": count}
            for status, count in sorted(figures.claims_by_status.items())
        ],
        "outbox_rows": outbox_rows,
        "cost_rows": cost_rows,
        "cost_chart": bar_chart(
            [(row["channel"], row["cost"]) for row in cost_rows], title=str(_("Reminder costs this month"))
        )
        if cost_rows
        else "",
        # The curves read a year of messages: cached briefly so the landing page stays fast on a large
        # database; today's figures above are always live.
        "curve_charts": cache.get_or_set(
            f"effect-dashboard-curves:{today.isoformat()}:{translation.get_language()}",
            lambda: _curve_charts(start=start, end=end, now=now),
            DASHBOARD_CURVES_CACHE_SECONDS,
        ),
        "curve_days": CURVE_DAYS,
        "simulated": data_is_simulated(),
        "can_view_effect": user.has_perm("dunning.view_effectfigures"),
    }
