"""Personal links in SMS: every default-library text offering booking, English and Spanish, stays
within its part budget on the CloudFront origin (~37 characters) and on a short custom domain
(`booking.link_base_url`, https only, which wins over the origin in the deployed functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from careloop.booking import links
from careloop.errors import ConfigError
from careloop.models import Patient
from careloop.practice import demo_profile, parse_profile
from careloop.sms.parts import count_parts
from careloop.templates import render
from careloop.workflows import default_library
from careloop.workflows.model import _WORST_CASE, MAX_PARTS
from careloop_local.fakes import memory_services
from infra.functions import booking_base_url

CLOUDFRONT = "https://d1a2b3c4d5e6f7.cloudfront.net"  # a default distribution domain: 37 characters
CUSTOM = "https://bk.maple.dental"
OFFERING_BOOKING = [(wf.id, step.id, lang, source) for wf in default_library() for step in wf.steps
                    if step.action.type == "sms" for lang, source in step.action.template.items()
                    if "booking_url" in source]


def test_the_default_library_offers_booking_in_both_languages():
    assert len(CLOUDFRONT) == 37
    offered = {(wf, step) for wf, step, _, _ in OFFERING_BOOKING}
    assert {"no-show-recovery", "post-visit", "recall"} <= {wf for wf, _ in offered}
    assert all({lang for w, s, lang, _ in OFFERING_BOOKING if (w, s) == pair} == {"en", "es"} for pair in offered)


@pytest.mark.parametrize("base", [CLOUDFRONT, CUSTOM], ids=["cloudfront-origin", "custom-domain"])
@pytest.mark.parametrize(("workflow", "step", "lang", "source"), OFFERING_BOOKING,
                         ids=[f"{w}/{s}/{lang}" for w, s, lang, _ in OFFERING_BOOKING])
def test_each_text_offering_booking_stays_within_its_part_budget(base, workflow, step, lang, source):
    # Given the patient's own link as the deployed functions mint it on this base
    svc = memory_services(datetime(2026, 12, 1, 9, tzinfo=UTC))
    svc.booking_base_url = base
    patient = Patient(id="p1", first_name="Maximiliano", phone="+16175550101", language=lang)
    svc.records.put_patient(patient)
    url = links.booking_url_for(svc, patient, "rebook", ref=f"{workflow}/{step}/{lang}")
    assert url.startswith(f"{base}/b/") and len(url) == len(base) + len("/b/") + links.TOKEN_LENGTH
    # When the text is rendered with long (real) names, the practice's and the patient's
    body = render(source, _WORST_CASE | {"booking_url": url})
    # Then it fits the budget the workflow library sets for every text
    assert url in body and count_parts(body) <= MAX_PARTS, (workflow, step, lang, count_parts(body))


def _with_base(value: object) -> dict:
    profile = demo_profile().model_dump(mode="json")
    profile["booking"]["link_base_url"] = value
    return profile


def test_a_custom_link_base_wins_over_the_cloudfront_origin_in_the_deployed_functions():
    custom = parse_profile(_with_base(CUSTOM + "/"))
    assert custom.booking is not None and custom.booking.link_base_url == CUSTOM  # the trailing slash is dropped
    assert booking_base_url(custom, CLOUDFRONT) == CUSTOM
    assert booking_base_url(demo_profile(), CLOUDFRONT) == CLOUDFRONT
    assert booking_base_url(demo_profile().model_copy(update={"booking": None}), CLOUDFRONT) == CLOUDFRONT


@pytest.mark.parametrize(("value", "problem"), [
    ("http://bk.maple.dental", "must be an https:// address"),
    ("bk.maple.dental", "must be an https:// address"),
    ("https://localhost", "must be an https:// address"),
    ("https://bk.maple.dental/?src=sms", "no query"),
    ("https://booking.riverside-family-dental.com", "at most 35"),
    (42, "string"),
])
def test_a_bad_link_base_is_refused_naming_the_field(value, problem):
    with pytest.raises(ConfigError) as err:
        parse_profile(_with_base(value))
    assert "booking.link_base_url" in str(err.value) and problem in str(err.value)
