"""`{% effect_dashboard %}`: the dashboard block on the admin index (templates/admin/index.html).

An inclusion tag rather than a custom AdminSite, so the stock admin index, app list and URLs stay as
they are; the figures come from dunning.admin.effect.dashboard_context (selectors only).
"""

from django import template

register = template.Library()


@register.inclusion_tag("admin/dunning/effectfigures/dashboard.html", takes_context=True)
def effect_dashboard(context):
    from dunning.admin.effect import dashboard_context

    request = context.get("request")
    return dashboard_context(request) if request is not None else {}


@register.filter
def percent(value, digits: int = 0):
    """0.4567 -> "45.7%" with digits=1; "–" for missing values."""
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:.{int(digits)}f}%"
