"""The demo world `make run` and `cadre demo` build in development: four accounts and, per domain, a
little believable data (a learner part-way through ACXP, ACXS completed with a certificate to try at
/verify, ...). Never in production.

Each domain contributes a seed `seed(session, people) -> list[str]`, named "module:function" in SEEDS
and imported when first needed, so this package imports no domain that has not landed. `people` maps
"learner", "coach", "admin" and "employer" to their User; the returned lines are printed. Every seed
is idempotent: run it again and it finds what it made and says so.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sqlmodel import Session

from api.accounts.models import User

# Run in this order (a later seed may build on an earlier one's data).
SEEDS: list[str] = [
    "api.demo.payments:seed",      # the SPECIAL50 code; ACXP bought in 4 instalments, the first paid
    "api.demo.learning:seed",      # ACXP part-way (lessons and a knowledge check done), ACXS all done
    "api.assessments.demo:seed",   # ACXP submission awaiting marking, ACXS assessment released as passed
    "api.cohorts.demo:seed",       # upcoming cohorts on every live programme; the coach also runs one started
    "api.demo.certificates:seed",  # the ACXS certificate (issued directly through the certificates service)
    "api.organisations.demo:seed",  # the employer's organisation: seats, one started, one certified, one invited
    "api.awards.demo:seed",        # next year's award cycle open for nominations, two people nominated
]

Seed = Callable[[Session, dict[str, User]], list[str]]


def _load(target: str) -> Seed:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run(session: Session, people: dict[str, User], seeds: list[str] | None = None) -> list[str]:
    """Every seed in order; the lines they return, to print. The caller commits."""
    lines: list[str] = []
    for target in SEEDS if seeds is None else seeds:
        lines.extend(_load(target)(session, people))
    return lines
