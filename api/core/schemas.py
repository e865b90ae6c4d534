"""Shared pieces of request schemas: validated human text, and the base for partial updates."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, Field, field_validator

# Bidirectional formatting characters: embeddings, overrides, isolates and the invisible marks. In a
# name they make text display in another order than it is stored ("Smith" shown as "htimS", or a
# number that reads differently on the verify page and the PDF).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` is not acceptable as text a person typed for others to read, if it is not."""
    for ch in value:
        if ch in BIDI_CONTROLS:
            return f"cannot contain the invisible direction-changing character U+{ord(ch):04X}"
        if multiline and ch in "\n\t":
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp"):
            return f"cannot contain control or unassigned characters (U+{ord(ch):04X})"
    return None


def clean_human_name(value: str) -> str:
    """A person's name as it will appear on a certificate: spaces collapsed, no control or direction
    characters, no angle brackets."""
    value = " ".join(value.split())
    if not value:
        raise ValueError("enter your full name as it should appear on a certificate")
    problem = text_problem(value)
    if problem:
        raise ValueError(f"a name {problem}")
    if "<" in value or ">" in value:
        raise ValueError("a name cannot contain angle brackets")
    return value


def clean_text(value: str) -> str:
    """Free text (a reason, a note, evidence): kept as typed, line breaks allowed, no control or
    direction characters."""
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(f"the text {problem}")
    return value


HumanName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(clean_human_name)]
"""The shared type for every field holding a person's name."""


class PatchModel(BaseModel):
    """Base for partial updates (XUpdate): leaving a field out keeps its value. An explicit null is
    refused (422), unless the field is listed in `nullable` (null then clears it)."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_means_nothing(cls, value: Any, info: Any) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("cannot be null: leave the field out to keep its current value")
        return value
