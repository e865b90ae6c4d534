"""Cadre's credentials as verifiers nobody on this project wrote read them: Digital Bazaar's
reference stack and DCC's verifier-core (the Learner Credential Wallet's), run by a small Node
script against a real Cadre server on loopback (tests/certificates/reference-verifier/).

Never skipped: without Node.js and the packages `make install-test` puts in place, it fails and
says what to install."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.certificates.jsonld import BUNDLED_CONTEXTS, CONTEXTS_DIR
from api.certificates.schema import SCHEMA_PATH
from tests.conftest import ROOT, free_port

RV = Path(__file__).resolve().parent / "reference-verifier"
OB_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
EXPECTED = {
    "valid": "VALID",  # issued before the key rotation below, checked after it
    "valid-proof-as-object": "VALID",  # the same credential with its one proof written as a bare object
    "revoked": "INVALID",
    "suspended": "INVALID",
    "reinstated": "VALID",
    "tampered": "INVALID",
    "issued-after-rotation": "VALID",
}


@pytest.fixture(scope="module")
def cadre_server(tmp_path_factory):
    """`cadre serve` in a subprocess with its own SQLite database and keys, set up like `make run`."""
    work = tmp_path_factory.mktemp("refverifier")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    env.update({
        "CADRE_ENV": "development",
        "CADRE_DATABASE_URL": f"sqlite:///{work / 'cadre.db'}",
        "CADRE_VAR_DIR": str(work / "var"),
        "CADRE_KEYS_DIR": str(work / "keys"),
        "CADRE_PORT": str(port),
        "CADRE_BASE_URL": f"http://127.0.0.1:{port}",
        "CADRE_EMAIL_BACKEND": "console",
        "CADRE_SECRET_KEY": "reference-verifier-secret-key-0123456789abcdef",
    })
    cadre = [sys.executable, "-m", "api.cli"]
    for args in (["db", "upgrade"], ["content", "sync"], ["keys", "create", "--if-missing"]):
        subprocess.run([*cadre, *args], env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([*cadre, "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.terminate()
            raise RuntimeError(f"the Cadre server did not start; see {work / 'server.log'}")
        time.sleep(0.2)
    yield {"url": url, "env": env}
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def _states(server) -> dict[str, str]:
    done = subprocess.run([sys.executable, str(RV / "cadre_states.py")], env=server["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _require_node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20+ with npm is needed for the reference verifier: apt-get install nodejs npm, "
                    "then make install-test")
    if not (RV / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        pytest.fail(f"the reference verifier's packages are not installed: run make install-test "
                    f"(npm ci --prefix {RV.relative_to(ROOT)})")
    return node


def test_outside_verifiers_agree_with_cadre(cadre_server):
    node = _require_node()
    url = cadre_server["url"]
    slugs = _states(cadre_server)  # five certificates, a key rotation, one more certificate
    credentials = {case: httpx.get(f"{url}/api/v1/credentials/{slug}").json() for case, slug in slugs.items()}
    first_key = credentials["valid"]["proof"][0]["verificationMethod"]
    assert credentials["issued-after-rotation"]["proof"][0]["verificationMethod"] != first_key
    did = httpx.get(f"{url}/.well-known/did.json").json()
    assert first_key in did["assertionMethod"] and len(did["assertionMethod"]) == 2  # retired, still published

    name = next(i for i in credentials["tampered"]["credentialSubject"]["identifier"] if i["identityType"] == "name")
    name["identityHash"] = "Mallory Impostor"
    credentials["valid-proof-as-object"] = dict(credentials["valid"], proof=credentials["valid"]["proof"][0])

    payload = {
        "server": url,
        "contexts": {ctx_url: str(CONTEXTS_DIR / file) for ctx_url, file in BUNDLED_CONTEXTS.items()},
        "schemas": {OB_SCHEMA_URL: str(SCHEMA_PATH)},
        "cases": [{"name": case, "credential": credentials[case]} for case in EXPECTED],
    }
    started = time.monotonic()
    done = subprocess.run([node, str(RV / "verify.mjs")], input=json.dumps(payload), cwd=RV, capture_output=True,
                          text=True, timeout=180)
    print(done.stdout, done.stderr, f"({time.monotonic() - started:.1f} s)", sep="\n")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["refused"] == [], "the verifiers tried to reach something other than the test server"

    verdicts = {(r["case"], r["verifier"]): r for r in report["results"]}
    for case, expected in EXPECTED.items():
        for verifier in ("digitalbazaar", "dcc"):
            got = verdicts[case, verifier]
            assert got["verdict"] == expected, f"{verifier} says {got['verdict']} for {case}: {got['why']}"
    # Revoked and suspended fail on the status bit (the signature is good), which Digital Bazaar's
    # checkStatus only reports: the script turns it into the failure a verifier must make of it.
    for case in ("revoked", "suspended"):
        assert "signature good; status bit set" in verdicts[case, "digitalbazaar"]["why"]
        assert "suspension_status FAILED" in verdicts[case, "dcc"]["why"]
    assert "Invalid signature" in verdicts["tampered", "digitalbazaar"]["why"]

    # Cadre's own verifier (an upload to POST /api/v1/verify) says the same of each.
    for case, expected in EXPECTED.items():
        answer = httpx.post(f"{url}/api/v1/verify", content=json.dumps(credentials[case])).json()
        assert answer["verified"] is (expected == "VALID"), (case, answer["checks"])
