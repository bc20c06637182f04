"""Templates cannot leak data: allowlisted variables only, safe tags only, SMS length as the network counts."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from campaigns.models import StepKind, Tone
from campaigns.services import template_create, template_update
from campaigns.templating import context_from_allowlist, sms_length, template_check
from tests.factories import make_template


@pytest.fixture(autouse=True)
def in_english():
    # Error texts are translated (Dutch first); the assertions read the English source strings.
    with translation.override("en"):
        yield


def check(body, *, kind=StepKind.REMINDER, channel="email", subject="Onderwerp"):
    template_check(step_kind=kind, channel=channel, subject=subject, body=body)


def test_allowed_variables_pass():
    check("Beste {{ salutation }}, {% for c in claims %}{{ c.reference }}: {{ c.open_amount }}{% endfor %}")


def test_unknown_variable_is_named():
    with pytest.raises(ValidationError) as caught:
        check("Beste {{ salutation }}, uw BSN is {{ bsn }}.")
    assert "bsn" in str(caught.value.message_dict["body"])


def test_variable_allowed_elsewhere_but_not_for_this_step_kind():
    with pytest.raises(ValidationError) as caught:
        check("{{ costs_if_unpaid }}", kind=StepKind.REMINDER)
    assert "costs_if_unpaid" in str(caught.value)
    check("{{ costs_if_unpaid }}", kind=StepKind.FORMAL_REMINDER)


def test_variables_in_tags_and_filter_arguments_are_checked():
    for body in ("{% if secret %}x{% endif %}", "{{ salutation|default:secret }}", "{% with x=secret %}{% endwith %}"):
        with pytest.raises(ValidationError, match="secret"):
            check(body)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("{% load static %}", "static"),
        ("{% include 'x.html' %}", "include"),
        ("{% debug %}", "debug"),
        ("{{ salutation|no_such_filter }}", "no_such_filter"),
        ("{% if %}{% endif %}", "syntax"),
    ],
)
def test_unsafe_tags_and_syntax_errors_are_refused(body, named):
    with pytest.raises(ValidationError) as caught:
        check(body)
    assert named in str(caught.value).lower()


def test_subject_is_checked_too():
    with pytest.raises(ValidationError) as caught:
        check("ok", subject="{{ iban_of_someone }}")
    assert "subject" in caught.value.message_dict


def test_context_only_has_allowlisted_names():
    context = context_from_allowlist(
        step_kind=StepKind.PAYMENT_CONFIRMATION, values={"salutation": "X", "postal_address": "Y", "bsn": "Z"}
    )
    assert context == {"salutation": "X"}


def test_gsm7_and_ucs2_lengths():
    assert (sms_length("a" * 160).parts, sms_length("a" * 161).parts) == (1, 2)
    assert sms_length("€[]").units == 6  # extension characters count double
    assert sms_length("a" * 306).parts == 2 and sms_length("a" * 307).parts == 3
    ucs = sms_length("Beste Zoë" + "a" * 60)
    assert ucs.encoding == "UCS-2" and ucs.parts == 1 and ucs.offending == "ë"
    assert sms_length("ë" + "a" * 133).parts == 2 and sms_length("ë" + "a" * 134).parts == 3


def test_sms_longer_than_two_parts_is_refused():
    check("Beste {{ salutation }}, betaal {{ open_amount }}: {{ payment_link }}", channel="sms", subject="")
    with pytest.raises(ValidationError) as caught:
        check("Beste {{ salutation }} " + "x" * 290, channel="sms", subject="")
    assert "306" in str(caught.value)


@pytest.mark.django_db
def test_a_template_with_an_unknown_variable_cannot_be_saved():
    with pytest.raises(ValidationError):
        template_create(
            step_kind=StepKind.REMINDER, tone=Tone.FRIENDLY, channel="email", language="nl",
            subject="Hoi", body="{{ bank_balance }}",
        )  # fmt: skip
    template = make_template()
    with pytest.raises(ValidationError):
        template_update(template=template, body="{{ bank_balance }}")
    template.refresh_from_db()
    assert "bank_balance" not in template.body


@pytest.mark.django_db
def test_content_change_makes_a_new_version():
    template = make_template()
    template_update(template=template, is_active=True)
    assert template.version == 1
    template_update(template=template, body="Beste {{ salutation }}, graag betalen.")
    assert template.version == 2
