"""The receipt email: what was bought, the price, the code, what was paid and what is still to come."""

from __future__ import annotations

from api.accounts.models import User
from api.catalog.models import Programme
from api.core.config import get_settings
from api.core.money import format_money
from api.payments.models import Order, Payment


def receipt(order: Order, programme: Programme, payments: list[Payment], user: User) -> tuple[str, str]:
    money = lambda amount: format_money(amount, order.currency)  # noqa: E731
    lines = [
        f"Hello {user.full_name},",
        "",
        f"Thank you for your payment. You are enrolled in {programme.title} ({programme.code}).",
        "",
        f"Order reference: {order.public_id}",
        f"Price: {money(order.amount_before)}",
    ]
    if order.discount_amount:
        lines.append(f"Discount ({order.code_text.upper() if order.code_text else 'code'}): "
                     f"-{money(order.discount_amount)}")
    lines.append(f"Total: {money(order.amount_total)}")
    if len(payments) > 1:
        lines += ["", f"Your {len(payments)} {order.interval or 'month'}ly payments:"]
        for p in payments:
            state = "paid" if p.status == "paid" else "due"
            lines.append(f"  {p.number}. {p.due_date:%-d %B %Y}  {money(p.amount)}  {state}")
        lines.append("Each payment is taken automatically; the plan ends itself after the last one.")
    else:
        lines.append(f"Paid: {money(order.amount_total)}")
    base = get_settings().base_url.rstrip("/")
    lines += ["", f"Start learning: {base}/learn/{programme.slug}", f"Your billing page: {base}/billing", ""]
    return f"Your receipt for {programme.display_title} ({order.public_id})", "\n".join(lines)
