"""Every practices/*.json synthesises nag-clean, with the stack outputs docs/deploy.md names: what
`make synth-all` runs, kept in `make test` so an example profile or the guide cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra import nag
from infra.application import load_practice

from .conftest import PROFILES

pytestmark = pytest.mark.infra

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
# CDK adds one output of its own for a RestApi's default stage; the guide names ApiUrl instead
CDK_OWN_OUTPUT = re.compile(r"^ApiEndpoint[0-9A-F]{8}$")


def guide_outputs() -> dict[str, bool]:
    """Output name -> whether it exists only with voice on, from the guide's table of outputs."""
    text = GUIDE.read_text()
    table = text[text.index("| Output | What it is |"):]
    table = table[: table.index("\n\n")]
    rows = re.findall(r"^\| `(\w+)` \| (.*) \|$", table, re.MULTILINE)
    return {name: "(voice on)" in what for name, what in rows}


@pytest.fixture(scope="module")
def synthesised(profile_synths) -> dict[str, tuple[dict, dict, list, list]]:
    """profile id -> (template outputs, nag report, applied acknowledgements, CDK warnings), from
    the session's one synthesis of each profile (conftest.profile_synths)."""
    return {pid: (s.outputs, s.report, s.build.acknowledgements, s.cdk_warnings) for pid, s in profile_synths.items()}


def test_the_examples_the_guide_promises_exist_and_differ():
    assert {"demo", "example-dental-single", "example-clinic-multi"} <= set(PROFILES)
    single, _ = load_practice("example-dental-single")
    multi, _ = load_practice("example-clinic-multi")
    assert len(single.locations) == 1 and single.voice is None and not single.agent.llm_enabled
    assert single.booking is None and single.ehr.kind == "hl7v2" and single.webhook_secret_ref is None
    assert all(set(e.answer) == {"en"} for e in single.knowledge_entries)  # English only
    assert len(multi.locations) == 3
    assert len({loc.timezone or multi.timezone for loc in multi.locations}) == 2
    assert multi.voice is not None and multi.voice.enabled and multi.sms.pool_id
    assert all("es" in e.answer for e in multi.knowledge)


@pytest.mark.parametrize("practice_id", PROFILES)
def test_profile_synthesises_nag_clean(synthesised, practice_id):
    _, report, acknowledgements, cdk_warnings = synthesised[practice_id]

    assert nag.unacknowledged(report) == []
    assert cdk_warnings == []
    applied = {(a.path, a.rule) for a in acknowledgements if "Annotation::" not in a.rule}
    assert applied == nag.used_acknowledgements(report)  # no acknowledgement left stale


@pytest.mark.parametrize("practice_id", PROFILES)
def test_profile_has_the_outputs_the_guide_names(synthesised, practice_id):
    outputs, *_ = synthesised[practice_id]
    profile, _ = load_practice(practice_id)
    voice_on = profile.voice is not None and profile.voice.enabled
    named = guide_outputs()

    expected = {name for name, voice_only in named.items() if voice_on or not voice_only}
    assert expected <= set(outputs)
    undocumented = {name for name in outputs if name not in named and not CDK_OWN_OUTPUT.match(name)}
    assert undocumented == set()  # an output the stack gains gets its row in the guide
    if not voice_on:
        assert not {name for name, voice_only in named.items() if voice_only} & set(outputs)


def test_the_guide_table_lists_the_outputs():
    named = guide_outputs()
    assert {"ApiUrl", "WebUrl", "UserPoolId", "SmsInboundTopicArn"} <= set(named)
    assert {name for name, voice_only in named.items() if voice_only} == {
        "ConnectInstanceArn", "VoicePhoneNumberArn", "VoiceBotAliasArn"}
