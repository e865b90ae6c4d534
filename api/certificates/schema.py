"""The Open Badges 3.0 AchievementCredential JSON schema, bundled (see schemas/SOURCES.md)."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import validators

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "ob_v3p0_achievementcredential_schema.json"


@lru_cache(maxsize=1)
def _schema() -> tuple[dict[str, Any], bool]:
    """(the schema used, whether it had to be adjusted for the VC Data Model 2.0)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    if "issuanceDate" not in schema.get("required", []):
        return schema, False  # a VC 2.0 revision: used exactly as published
    # A VC Data Model 1.1 revision (see schemas/SOURCES.md): on VC 2.0, issuanceDate became
    # validFrom, so require that instead. Nothing else is changed, and a VC 2.0 revision dropped
    # into schemas/ is used as it is.
    schema["required"] = ["validFrom" if name == "issuanceDate" else name for name in schema["required"]]
    schema["properties"]["validFrom"] = {"type": "string", "format": "date-time"}
    schema["properties"]["validUntil"] = {"type": "string", "format": "date-time"}
    return schema, True


def adjusted_for_vc2() -> bool:
    return _schema()[1]


@lru_cache(maxsize=1)
def schema_digest() -> str:
    """sha256 of the bundled file: a stored schema check is only as current as this."""
    return hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def _ob_validator():
    schema = _schema()[0]
    return validators.validator_for(schema)(schema)


def validate_ob_schema(credential: dict[str, Any]) -> list[str]:
    """Problems the Open Badges 3.0 AchievementCredential JSON schema finds, as readable lines."""
    errors = sorted(_ob_validator().iter_errors(credential), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or 'the credential'}: {e.message}" for e in errors]
