"""The award credential read by verifiers nobody on this project wrote (Digital Bazaar's reference
stack and DCC's verifier-core), exactly as tests/certificates/test_reference_verifier.py reads the
certificates: a real Cadre server, a whole cycle run through the services, one credential valid and
one revoked through the status list. Never skipped: without Node.js it fails and says what to install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from api.certificates.jsonld import BUNDLED_CONTEXTS, CONTEXTS_DIR
from api.certificates.schema import SCHEMA_PATH
from tests.certificates.test_reference_verifier import OB_SCHEMA_URL, RV, _require_node, cadre_server  # noqa: F401
from tests.conftest import ROOT

STATES = Path(__file__).resolve().parent / "award_states.py"
EXPECTED = {"award-valid": "VALID", "award-revoked": "INVALID"}


def test_outside_verifiers_verify_an_award_credential(cadre_server):  # noqa: F811 - the shared server fixture
    node = _require_node()
    url = cadre_server["url"]
    done = subprocess.run([sys.executable, str(STATES)], env=cadre_server["env"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    slugs = json.loads(done.stdout.strip().splitlines()[-1])
    credentials = {case: httpx.get(f"{url}/api/v1/credentials/{slug}").json() for case, slug in slugs.items()}
    achievement = credentials["award-valid"]["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Award" and achievement["name"] == "Change Architect of the Year 2027"

    payload = {
        "server": url,
        "contexts": {ctx_url: str(CONTEXTS_DIR / file) for ctx_url, file in BUNDLED_CONTEXTS.items()},
        "schemas": {OB_SCHEMA_URL: str(SCHEMA_PATH)},
        "cases": [{"name": case, "credential": credentials[case]} for case in EXPECTED],
    }
    done = subprocess.run([node, str(RV / "verify.mjs")], input=json.dumps(payload), cwd=RV, capture_output=True,
                          text=True, timeout=180)
    print(done.stdout, done.stderr, sep="\n")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["refused"] == []
    verdicts = {(r["case"], r["verifier"]): r for r in report["results"]}
    for case, expected in EXPECTED.items():
        for verifier in ("digitalbazaar", "dcc"):
            got = verdicts[case, verifier]
            assert got["verdict"] == expected, f"{verifier} says {got['verdict']} for {case}: {got['why']}"
    assert "signature good; status bit set" in verdicts["award-revoked", "digitalbazaar"]["why"]

    # Cadre's own verifier and verify page say the same.
    for case, expected in EXPECTED.items():
        answer = httpx.post(f"{url}/api/v1/verify", content=json.dumps(credentials[case])).json()
        assert answer["verified"] is (expected == "VALID"), (case, answer["checks"])
    page = httpx.get(f"{url}/verify/{slugs['award-valid']}").text
    assert "Wendy Winner" in page and "Change Architect of the Year 2027" in page
    assert "withdrawn" in httpx.get(f"{url}/verify/{slugs['award-revoked']}").text.lower()
