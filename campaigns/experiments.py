"""Experiments: template variants on one policy step, assigned per claim, judged with plain statistics.

An experiment tests wording: every variant is a template of the same step kind x tone x channel x
language (the combination of the first variant, usually the currently active template). The planner
asks `template_override_for(...)` once it has chosen a template; when a running experiment covers that
step and combination, the claim's variant's template is used instead and recorded on the message.

Assignment is deterministic: sha256 of "experiment id:claim id" maps every claim to the same variant
every time (a re-plan, a second planner process, a restart), spread over the variants by weight.

Statistics (documented in docs/effect.md):
- Wilson score interval for a proportion (95%: z = 1.96).
- Two-proportion z-test with a pooled standard error; "better with 95% confidence" when |z| >= 1.96.
- Messages still needed: the standard sample size per group for comparing two proportions,
  n = (z_a * sqrt(2 * p * (1 - p)) + z_b * sqrt(p1 * (1 - p1) + p2 * (1 - p2)))^2 / (p1 - p2)^2
  with p = (p1 + p2) / 2, z_a = 1.96 (two-sided 5%) and z_b = 0.8416 (80% power), minus what each
  group already has. The difference to detect is the observed one, but at least MIN_DETECTABLE_DIFFERENCE.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Experiment, ExperimentVariant, MessageTemplate, PolicyStep

Z_95 = 1.959963984540054
Z_POWER_80 = 0.8416212335729143
MIN_DETECTABLE_DIFFERENCE = 0.03  # 3 percentage points: smaller is not worth changing a template for


# ---------------------------------------------------------------------------------------------------
# Assignment


def bucket_for(experiment_id: int, claim_id: int, total_weight: int) -> int:
    """A stable integer in [0, total_weight) for this experiment and claim."""
    digest = hashlib.sha256(f"{experiment_id}:{claim_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total_weight


def variant_for(experiment: Experiment, claim_id: int, variants: list[ExperimentVariant] | None = None):
    """The variant this claim gets in this experiment; the same answer every time.

    Variants are taken in (label, id) order and laid end to end by weight; the claim's stable bucket
    picks one. Pass `variants` (in that order) to avoid a query per claim.
    """
    if variants is None:
        variants = list(experiment.variants.order_by("label", "id"))
    total = sum(variant.weight for variant in variants)
    if not variants or total <= 0:
        return None
    point = bucket_for(experiment.pk, claim_id, total)
    cumulative = 0
    for variant in variants:
        cumulative += variant.weight
        if point < cumulative:
            return variant
    return variants[-1]  # unreachable: point < total


def _combination(template: MessageTemplate) -> tuple[str, str, str, str]:
    return (template.step_kind, template.tone, template.channel, template.language)


@dataclass(frozen=True)
class RunningExperiment:
    experiment: Experiment
    variants: list[ExperimentVariant]

    @property
    def combination(self) -> tuple[str, str, str, str]:
        return _combination(self.variants[0].template)


def running_experiments() -> dict[int, RunningExperiment]:
    """Step id -> its running experiment with variants (two queries). A planner run loads this once
    and passes it to `template_override_for` for every claim."""
    experiments = Experiment.objects.filter(status=Experiment.Status.RUNNING).prefetch_related("variants__template")
    running = {}
    for experiment in experiments:
        variants = sorted(experiment.variants.all(), key=lambda variant: (variant.label, variant.pk))
        if len(variants) >= 2:
            running[experiment.step_id] = RunningExperiment(experiment=experiment, variants=variants)
    return running


def template_override_for(
    step: PolicyStep | int,
    claim_id: int,
    *,
    template: MessageTemplate | None = None,
    running: dict[int, RunningExperiment] | None = None,
) -> tuple[MessageTemplate, ExperimentVariant] | None:
    """The (template, variant) a running experiment on `step` assigns to this claim, or None.

    `template` is the template the planner chose without experiments; the experiment applies only
    when it has the experiment's combination (so a care-flag debtor who gets the empathetic tone never
    lands in an experiment on the friendly e-mail). Without `template` the experiment always applies.
    """
    step_id = step if isinstance(step, int) else step.pk
    if running is None:
        running = running_experiments()
    current = running.get(step_id)
    if current is None:
        return None
    if template is not None and _combination(template) != current.combination:
        return None
    variant = variant_for(current.experiment, claim_id, current.variants)
    if variant is None:
        return None
    return variant.template, variant


# ---------------------------------------------------------------------------------------------------
# Statistics


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for successes/n; (0, 0) for n = 0 is avoided by callers."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_z(paid_a: int, n_a: int, paid_b: int, n_b: int) -> float:
    """z statistic of (p_b - p_a) with the pooled standard error; 0 when it cannot be computed."""
    if n_a <= 0 or n_b <= 0:
        return 0.0
    pooled = (paid_a + paid_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0
    return (paid_b / n_b - paid_a / n_a) / se


def sample_size_per_group(p1: float, p2: float, z_alpha: float = Z_95, z_beta: float = Z_POWER_80) -> int:
    """Messages per variant to tell p1 from p2 (two-sided 5%, 80% power); see the module docstring."""
    if abs(p2 - p1) < MIN_DETECTABLE_DIFFERENCE:
        p2 = p1 + MIN_DETECTABLE_DIFFERENCE if p1 + MIN_DETECTABLE_DIFFERENCE <= 1 else p1 - MIN_DETECTABLE_DIFFERENCE
    p_bar = (p1 + p2) / 2
    numerator = z_alpha * math.sqrt(2 * p_bar * (1 - p_bar)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(numerator**2 / (p1 - p2) ** 2)


@dataclass(frozen=True)
class Verdict:
    better: str | None  # label of the better variant when significant
    worse: str | None
    significant: bool
    z: float
    more_needed: int  # messages still needed (both groups together) when not significant
    text: str


def verdict(label_a: str, paid_a: int, n_a: int, label_b: str, paid_b: int, n_b: int) -> Verdict:
    """Plain-language comparison of two variants' payment rates (translated: Dutch in the admin)."""
    if n_a == 0 or n_b == 0:
        p = (paid_a + paid_b) / (n_a + n_b) if n_a + n_b else 0.5
        needed = sample_size_per_group(p, p)
        more = max(0, needed - n_a) + max(0, needed - n_b)
        return Verdict(
            None,
            None,
            False,
            0.0,
            more,
            _("Not enough figures yet to compare %(a)s and %(b)s: about %(n)s more messages needed.")
            % {"a": label_a, "b": label_b, "n": more},
        )
    z = two_proportion_z(paid_a, n_a, paid_b, n_b)
    if abs(z) >= Z_95:
        better, worse = (label_b, label_a) if z > 0 else (label_a, label_b)
        return Verdict(
            better,
            worse,
            True,
            z,
            0,
            _("%(better)s is better than %(worse)s with 95%% confidence.") % {"better": better, "worse": worse},
        )
    needed = sample_size_per_group(paid_a / n_a, paid_b / n_b)
    more = max(0, needed - n_a) + max(0, needed - n_b)
    if more == 0:
        # Enough messages for the difference we look for, and still none: the variants are alike.
        text = _("No difference between %(a)s and %(b)s: they work about equally well.") % {
            "a": label_a,
            "b": label_b,
        }
    else:
        text = _("No difference between %(a)s and %(b)s yet: about %(n)s more messages needed.") % {
            "a": label_a,
            "b": label_b,
            "n": more,
        }
    return Verdict(None, None, False, z, more, text)


# ---------------------------------------------------------------------------------------------------
# Stopping


class ExperimentError(ValueError):
    pass


def experiment_variants_check(*, step: PolicyStep, templates: list[MessageTemplate]) -> None:
    """Raise ExperimentError unless the templates suit one experiment on `step`."""
    if len(templates) < 2:
        raise ExperimentError(_("An experiment needs at least two variants."))
    combinations = {_combination(template) for template in templates}
    if len(combinations) != 1:
        raise ExperimentError(_("All variants must be templates of the same step kind, tone, channel and language."))
    if templates[0].step_kind != step.kind:
        raise ExperimentError(_("The variants' templates must be for the step's kind."))


@transaction.atomic
def experiment_stop(
    *, experiment: Experiment, winner: ExperimentVariant, actor=None, now: datetime | None = None
) -> Experiment:
    """Stop the experiment and make the winner's template the active one for its combination.

    Returns early when the experiment is already stopped. The template that was active for the
    combination is deactivated first (one active template per combination is a database constraint).
    """
    now = now or timezone.now()
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status == Experiment.Status.STOPPED:
        return experiment
    if winner.experiment_id != experiment.pk:
        raise ExperimentError(_("The chosen variant belongs to another experiment."))
    template = MessageTemplate.objects.select_for_update().get(pk=winner.template_id)
    MessageTemplate.objects.filter(
        step_kind=template.step_kind,
        tone=template.tone,
        channel=template.channel,
        language=template.language,
        is_active=True,
    ).exclude(pk=template.pk).update(is_active=False)
    # update(), not save(): activating is not a content change, so no new template version.
    MessageTemplate.objects.filter(pk=template.pk).update(is_active=True, updated_at=now)
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = now
    experiment.winner = winner
    experiment.save(update_fields=["status", "stopped_at", "winner"])
    return experiment
