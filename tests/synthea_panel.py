"""A large FHIR Bundle of patients made from the Synthea samples in tests/data: each patient is
one of the samples' Patients with its own id, MRN, name, birth date and mobile number."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.conftest import DATA

SYNTHEA = DATA / "smart-generated-sample-data-synthea-r4"
# the demographics Careloop maps, from the sample; the samples' narrative, extensions and
# addresses would make 40,000 patients 200 MB (and mapping them ten times slower)
KEPT = ("resourceType", "gender")


def synthea_patients(folder: Path = SYNTHEA) -> list[dict]:
    out = []
    for path in sorted(folder.glob("*.json")):
        bundle = json.loads(path.read_text())
        out += [e["resource"] for e in bundle.get("entry", []) if e.get("resource", {}).get("resourceType") == "Patient"]
    if not out:
        raise RuntimeError(f"no Synthea Patient in {folder}")
    return out


def patient_bundle(n: int, prefix: str = "syn", seed: int = 15) -> bytes:
    """A `collection` Bundle of `n` patients, ids `<prefix>-<i>` (compact JSON)."""
    rnd = random.Random(seed)
    templates = synthea_patients()
    families = sorted({t["name"][0]["family"] for t in templates} | {"Reyes", "Okafor", "Nguyen", "Silva", "Cohen"})
    givens = sorted({g for t in templates for g in t["name"][0]["given"]} | {"Ana", "Dev", "Grace", "Hiro", "Ines"})
    entries = []
    for i in range(n):
        t = templates[i % len(templates)]
        r = {k: t[k] for k in KEPT if k in t}  # strings only: shared, never changed
        r |= {
            "id": f"{prefix}-{i}",
            "meta": {"versionId": "1", "lastUpdated": "2026-11-01T08:00:00Z"},
            "identifier": [{"system": "http://hospital.smarthealthit.org", "value": f"{prefix.upper()}-MRN-{i:06d}"}],
            "name": [{"use": "official", "family": rnd.choice(families), "given": [rnd.choice(givens)]}],
            "telecom": [{"system": "phone", "value": f"617-555-{i % 10000:04d}", "use": "mobile"}],
            "birthDate": f"{rnd.randint(1940, 2015)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        }
        entries.append({"resource": r})
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries},
                      separators=(",", ":")).encode()
