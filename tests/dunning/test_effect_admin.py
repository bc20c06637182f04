"""The dashboard on the admin index, the effect page, channel prices and the experiment page render,
for the roles that use them; the stop action and the results-page stop both go through the service."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Experiment, ExperimentVariant, MessageTemplate, Tone
from dunning.models import ChannelCost, Claim, Message
from tests.conftest import PASSWORD
from tests.factories import make_claim, make_debtor, make_policy, make_segment, make_template


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The dashboard caches its curves for a few minutes; every test starts without them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def history(db):
    """12 people on one friendly e-mail reminder 40 days ago, half of them paid within 5 days."""
    policy = make_policy()
    step = policy.steps.get(order=1)
    segment = make_segment(name="Soms te laat")
    sent = timezone.now() - timedelta(days=40)
    for i in range(12):
        claim = make_claim(make_debtor(), policy=policy)
        Message.objects.create(
            claim=claim,
            step=step,
            tone=Tone.FRIENDLY,
            channel="email",
            segment=segment,
            scheduled_for=sent,
            sent_at=sent,
            status=Message.Status.DELIVERED,
        )
        if i % 2 == 0:
            Claim.objects.filter(pk=claim.pk).update(
                status=Claim.Status.PAID, open_amount=Decimal("0"), settled_at=sent + timedelta(days=5)
            )
    return {"policy": policy, "step": step}


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_admin_index_is_a_dashboard_for_clerks(client, clerk, history):
    response = _login(client, clerk).get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="dashboard"' in html and 'id="dashboard-outbox"' in html and 'id="dashboard-costs"' in html
    assert html.count('class="chart chart-line"') == 2  # per tone and per channel
    assert "<polyline" in html
    assert 'id="simulated-note"' not in html  # no demo data here
    assert 'id="content-main"' in html and "app-dunning" in html  # the app list is still there


def test_the_dashboard_says_simulated_on_demo_data(client, clerk, history, settings):
    settings.DEBUG = True
    make_debtor(source_reference="DEMO-0000001")
    response = _login(client, clerk).get(reverse("admin:index"))
    assert 'id="simulated-note"' in response.content.decode()


def test_the_effect_page_shows_groups_and_filters(client, team_lead, history):
    url = reverse("admin:dunning_effectfigures_changelist")
    response = _login(client, team_lead).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Soms te laat" in html and 'id="effect-table"' in html
    assert "50%" in html  # paid within 7 days: 6 of 12

    today = timezone.localdate()
    filtered = client.get(
        url,
        {
            "start": (today - timedelta(days=400)).isoformat(),
            "end": today.isoformat(),
            "policy": history["policy"].pk,
            "claim_kind": "parking",
            "by_template": "on",
        },
    )
    assert filtered.status_code == 200
    assert "Soms te laat" not in filtered.content.decode()  # no parking claims


def test_compliance_officers_see_figures_but_not_prices_to_change(client, compliance_officer, history):
    _login(client, compliance_officer)
    assert client.get(reverse("admin:dunning_effectfigures_changelist")).status_code == 200
    assert client.get(reverse("admin:dunning_channelcost_add")).status_code == 403


def test_channel_costs_changelist(client, team_lead, history):
    response = _login(client, team_lead).get(reverse("admin:dunning_channelcost_changelist"))
    assert response.status_code == 200
    assert ChannelCost.objects.filter(channel="letter").exists()  # the data migration's prices


@pytest.fixture
def experiment(history):
    current = make_template()
    draft = make_template(body="Beste {{ salutation }}, vergeten?", is_active=False)
    experiment = Experiment.objects.create(
        step=history["step"], name="Vergeten?", started_at=timezone.now() - timedelta(days=60)
    )
    a = ExperimentVariant.objects.create(experiment=experiment, label="A", template=current)
    b = ExperimentVariant.objects.create(experiment=experiment, label="B", template=draft)
    Message.objects.filter(step=history["step"]).update(experiment_variant=a, template=current)
    return experiment, a, b


def test_the_experiment_page_shows_intervals_and_a_verdict(client, team_lead, experiment):
    exp, _a, _b = experiment
    response = _login(client, team_lead).get(reverse("admin:campaigns_experiment_results", args=[exp.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="experiment-table"' in html and 'class="verdict' in html
    assert "(6/12)" in html  # A's payment rate
    assert "ci-bar" in html


def test_a_team_lead_stops_an_experiment_from_its_page(client, team_lead, experiment):
    exp, a, b = experiment
    url = reverse("admin:campaigns_experiment_results", args=[exp.pk])
    response = _login(client, team_lead).post(url, {"winner": b.pk})
    assert response.status_code == 302
    exp.refresh_from_db()
    assert exp.status == Experiment.Status.STOPPED and exp.winner == b
    assert MessageTemplate.objects.get(pk=b.template_id).is_active
    assert not MessageTemplate.objects.get(pk=a.template_id).is_active


def test_clerks_cannot_stop_experiments(client, clerk, experiment):
    exp, _a, b = experiment
    url = reverse("admin:campaigns_experiment_results", args=[exp.pk])
    _login(client, clerk)
    assert client.get(url).status_code == 200
    assert client.post(url, {"winner": b.pk}).status_code == 403


def test_the_stop_action_keeps_the_current_variant_without_proof(client, team_lead, experiment):
    exp, a, _b = experiment
    response = _login(client, team_lead).post(
        reverse("admin:campaigns_experiment_changelist"),
        {"action": "stop_with_best_variant", "_selected_action": [exp.pk]},
    )
    assert response.status_code == 302
    exp.refresh_from_db()
    assert exp.status == Experiment.Status.STOPPED and exp.winner == a


def test_the_experiment_admin_checks_variants_share_a_combination(client, team_lead, history):
    a = make_template()
    letter = make_template(channel="letter", body="Brief")
    response = _login(client, team_lead).post(
        reverse("admin:campaigns_experiment_add"),
        {
            "name": "Kanaal",
            "step": history["step"].pk,
            "started_at_0": timezone.localdate().isoformat(),
            "started_at_1": "09:00:00",
            "variants-TOTAL_FORMS": "2",
            "variants-INITIAL_FORMS": "0",
            "variants-MIN_NUM_FORMS": "0",
            "variants-MAX_NUM_FORMS": "1000",
            "variants-0-label": "A",
            "variants-0-template": a.pk,
            "variants-0-weight": "1",
            "variants-1-label": "B",
            "variants-1-template": letter.pk,
            "variants-1-weight": "1",
        },
    )
    assert response.status_code == 200  # the form comes back with the error
    assert not Experiment.objects.filter(name="Kanaal").exists()
    assert "same step kind, tone, channel and language" in response.content.decode() or "zelfde" in (
        response.content.decode()
    )


def test_experiment_changelist_renders(client, team_lead, experiment):
    response = _login(client, team_lead).get(reverse("admin:campaigns_experiment_changelist"))
    assert response.status_code == 200


def test_cost_bars_print_euros_in_the_language_of_the_page():
    from django.utils import translation

    from dunning.charts import bar_chart

    with translation.override("nl"):
        assert "€ 1.234,50" in bar_chart([("Brief", Decimal("1234.5"))], title="Kosten")
    with translation.override("en"):
        assert "€ 1,234.50" in bar_chart([("Letter", Decimal("1234.5"))], title="Costs")
