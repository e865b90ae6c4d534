"""The Open Badges 3.0 AchievementCredential JSON schema, bundled (see schemas/SOURCES.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import validators

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "ob_v3p0_achievementcredential_schema.json"


@lru_cache(maxsize=1)
def _ob_validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The schema file is the copy in 1EdTech's repository (see schemas/SOURCES.md), written for
    # VC Data Model 1.1. OB 3.0 now sits on VC 2.0, where issuanceDate became validFrom: require
    # that instead. Nothing else is changed.
    schema["required"] = ["validFrom" if name == "issuanceDate" else name for name in schema["required"]]
    schema["properties"]["validFrom"] = {"type": "string", "format": "date-time"}
    schema["properties"]["validUntil"] = {"type": "string", "format": "date-time"}
    cls = validators.validator_for(schema)
    return cls(schema)


def validate_ob_schema(credential: dict[str, Any]) -> list[str]:
    """Problems the Open Badges 3.0 AchievementCredential JSON schema finds, as readable lines."""
    errors = sorted(_ob_validator().iter_errors(credential), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or 'the credential'}: {e.message}" for e in errors]
