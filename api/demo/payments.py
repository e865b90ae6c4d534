"""Demo data of payments: the SPECIAL50 code (50% off ACX Specialist)."""

from __future__ import annotations

from sqlmodel import Session

from api.accounts.models import User
from api.payments import codes


def seed(session: Session, people: dict[str, User]) -> list[str]:
    made = codes.ensure_demo_codes(session)
    said = f"Demo discount code created: {', '.join(made)}" if made else "Discount code SPECIAL50"
    return [f"{said}: 50% off ACX Specialist (try /checkout/acxs?offer=full&code=special50)."]
