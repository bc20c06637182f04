"""Experiments in the admin: define variants, read the results page, stop with a chosen winner.

Imported from campaigns/admin.py. The results page reads dunning's effect figures (admin modules may
compose across apps); the writes go through campaigns.experiments.experiment_stop.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.experiments import ExperimentError, experiment_stop, experiment_variants_check, verdict
from campaigns.models import Experiment, ExperimentVariant

STOP_PERMISSION = "campaigns.stop_experiment"


class VariantFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        templates = [
            form.cleaned_data["template"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("template")
        ]
        step = getattr(self.instance, "step", None) if self.instance.step_id else None
        if step is None:
            return
        try:
            experiment_variants_check(step=step, templates=templates)
        except ExperimentError as error:
            raise forms.ValidationError(str(error))


class ExperimentVariantInline(admin.TabularInline):
    model = ExperimentVariant
    formset = VariantFormSet
    extra = 2
    min_num = 0
    autocomplete_fields = ()
    fields = ("label", "template", "weight")

    def has_change_permission(self, request, obj=None):
        # Variants are fixed once messages went out with them: changing them would mix two experiments.
        if obj is not None and not obj.is_running:
            return False
        return super().has_change_permission(request, obj)


def _results(experiment: Experiment, *, now=None) -> dict:
    from dunning.selectors.effect import EXPERIMENT_WINDOW_DAYS, experiment_figures

    figures = experiment_figures(experiment=experiment, now=now)
    verdicts = []
    if figures:
        control = figures[0]
        for other in figures[1:]:
            verdicts.append(
                verdict(control.variant.label, control.paid, control.n, other.variant.label, other.paid, other.n)
            )
    return {"figures": figures, "verdicts": verdicts, "window_days": EXPERIMENT_WINDOW_DAYS}


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ("name", "step", "status", "started_at", "stopped_at", "winner", "variant_count", "results_link")
    list_filter = ("status",)
    search_fields = ("name",)
    list_select_related = ("step__policy", "winner")
    raw_id_fields = ("step",)
    readonly_fields = ("status", "stopped_at", "winner", "results_link")
    fields = ("name", "hypothesis", "step", "started_at", "status", "stopped_at", "winner", "results_link")
    inlines = [ExperimentVariantInline]
    actions = ["stop_with_best_variant"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(variant_total=Count("variants"))

    @admin.display(description=_("variants"), ordering="variant_total")
    def variant_count(self, obj):
        return getattr(obj, "variant_total", None)

    @admin.display(description=_("results"))
    def results_link(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        url = reverse("admin:campaigns_experiment_results", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Figures and verdict"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/results/",
                self.admin_site.admin_view(self.results_view),
                name="campaigns_experiment_results",
            ),
            *super().get_urls(),
        ]

    def has_stop_permission(self, request):
        return request.user.has_perm(STOP_PERMISSION)

    def results_view(self, request, pk):
        experiment = get_object_or_404(Experiment.objects.select_related("step__policy", "winner"), pk=pk)
        if not self.has_view_permission(request, experiment):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_stop_permission(request):
                raise PermissionDenied
            winner = get_object_or_404(ExperimentVariant, pk=request.POST.get("winner"), experiment=experiment)
            self._stop(request, experiment, winner)
            return HttpResponseRedirect(request.path)
        from dunning.admin.effect import data_is_simulated

        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Experiment: %(name)s") % {"name": experiment.name},
            "opts": self.model._meta,
            "experiment": experiment,
            "can_stop": experiment.is_running and self.has_stop_permission(request),
            "simulated": data_is_simulated(),
            **_results(experiment),
        }
        return TemplateResponse(request, "admin/campaigns/experiment/results.html", context)

    def _stop(self, request, experiment, winner) -> None:
        try:
            experiment_stop(experiment=experiment, winner=winner, actor=request.user, now=timezone.now())
        except ExperimentError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request,
            gettext("Experiment %(name)s stopped; variant %(label)s (%(template)s) is now the active template.")
            % {"name": experiment.name, "label": winner.label, "template": winner.template},
            messages.SUCCESS,
        )

    @admin.action(permissions=["stop"], description=_("Stop: keep the variant that is better with 95%% confidence"))
    def stop_with_best_variant(self, request, queryset):
        """The winner is the variant that beats the first (current) one with 95% confidence; when none
        does, the first variant stays: no proven improvement, no change."""
        for experiment in queryset.filter(status=Experiment.Status.RUNNING):
            results = _results(experiment)
            figures = results["figures"]
            if not figures:
                continue
            winner = figures[0].variant
            best_rate = figures[0].rate or 0
            for figure, result in zip(figures[1:], results["verdicts"], strict=True):
                if result.significant and result.better == figure.variant.label and (figure.rate or 0) > best_rate:
                    winner, best_rate = figure.variant, figure.rate or 0
            self._stop(request, experiment, winner)
