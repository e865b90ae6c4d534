"""When a programme can next be started, as the programme cards show it ("Next cohort 14 January
2027"), answered by the domain that owns the dates.

Catalog knows no cohort: a delivery format that runs on dates names a provider here, "module:function",
imported when first needed (as api/learning/requirements.py does), so no import circle can start here.
A provider answers for many programmes at once (one query for the whole catalogue) and is told the
programmes of its format only. The domain that owns the dates calls api/core/pagecache.invalidate when
they change: the home page and the catalogue are kept for anonymous visitors.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from functools import cache

from sqlmodel import Session

from api.catalog.models import Programme

# delivery format -> "module:function(session, programmes) -> {programme_id: first day of the next cohort}"
# A programme missing from the answer has no cohort open for booking.
PROVIDERS: dict[str, str] = {
    "live_cohort": "api.cohorts.catalogue:next_starts",
}

NextStarts = Callable[[Session, list[Programme]], dict[int, date]]


@cache
def _provider(fmt: str) -> NextStarts | None:
    target = PROVIDERS.get(fmt)
    if target is None:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def next_starts(session: Session, programmes: list[Programme]) -> dict[int, date]:
    """The next start date of each programme that runs on dates and has one open for booking."""
    found: dict[int, date] = {}
    for fmt in sorted({p.format for p in programmes}):
        provider = _provider(fmt)
        if provider is not None:
            found.update(provider(session, [p for p in programmes if p.format == fmt]))
    return found
