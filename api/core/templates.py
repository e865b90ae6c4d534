"""Jinja2 templates from web/templates, with the helpers every page needs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import quote, unquote

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from api.core.config import ROOT
from api.core.markdown import render_markdown
from api.core.money import format_money
from api.core.security import CSRF_FIELD, csrf_token
from api.core.timezones import format_instant

templates = Jinja2Templates(directory=str(ROOT / "web" / "templates"))
env = templates.env
env.globals.update(csrf_token=csrf_token, csrf_field=CSRF_FIELD, now=datetime.now)
env.filters.update(money=format_money, markdown=render_markdown)


def _date(value: date | datetime | None) -> str:
    """THE date format of every page: "1 December 2026"."""
    return value.strftime("%-d %B %Y") if value else ""


def _date_time(value: datetime | None) -> str:
    """An instant with its time, in UTC and saying so: "1 December 2026, 14:05 UTC"."""
    if not value:
        return ""
    return value.astimezone(UTC).strftime("%-d %B %Y, %H:%M UTC")


env.filters["date"] = _date
env.filters["date_time"] = _date_time


@pass_context
def _when(context, value: datetime | None, zone: str | None = None) -> str:
    """An instant in the viewer's zone, named, with UTC beside it: "Tue 8 Sep, 10:00 BST (09:00 UTC)"."""
    user = context.get("user")
    return format_instant(value, zone or (user.time_zone if user is not None else None))


env.filters["when"] = _when


FLASH_COOKIE = "cadre_flash"
# A flash message carries its kind, shown in its own style and announced accordingly: success (green),
# info (blue), warning (amber), error (red, role=alert).
FLASH_KINDS = ("success", "info", "warning", "error")


def _read_flash(raw: str) -> tuple[str, str]:
    text = unquote(raw)
    kind, sep, message = text.partition(":")
    if sep and kind in FLASH_KINDS:
        return kind, message[:300]
    return "success", text[:300]


def render(request, name: str, status_code: int = 200, **context):
    """Render a page with what every page needs: the user, their roles and any flash message."""
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("roles", getattr(request.state, "roles", set()))
    flash = request.cookies.get(FLASH_COOKIE)
    kind, message = _read_flash(flash) if flash else ("success", None)
    context.setdefault("flash", message)
    context.setdefault("flash_kind", kind)
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str | None = None, kind: str = "success"):
    """303 after a POST, optionally carrying a one-time message of a kind (FLASH_KINDS) to the next page."""
    from fastapi.responses import RedirectResponse

    response = RedirectResponse(url, status_code=303)
    if flash:
        # Percent-encoded: a cookie carries only latin-1, a message may quote any title or name.
        kind = kind if kind in FLASH_KINDS else "info"
        response.set_cookie(FLASH_COOKIE, quote(f"{kind}:{flash[:300]}"),
                            max_age=60, httponly=True, samesite="lax", path="/")
    return response


# How a form field is named in messages ("Enter your full name.").
FIELD_LABELS = {"full_name": "full name", "email": "email address", "new_email": "new email address",
                "password": "password", "new_password": "new password", "current_password": "current password",
                "holder_name": "name for the certificate", "buyer_name": "name", "buyer_company": "company",
                "buyer_vat": "VAT number"}


# The email validator's reasons, in plain words (its own wording names "the @-sign" and runs on).
_EMAIL_REASONS = (
    ("too long", ": it is too long"),
    ("must have an @-sign", ": it needs an @"),
    ("something after the @-sign", ": something must follow the @"),
    ("should have a period", ": the part after the @ needs a dot, as in example.com"),
    ("before the @-sign", ": the part before the @ has characters an address cannot hold"),
    ("after the @-sign", ": the part after the @ is not a domain name"),
)


def _email_reason(reason: str) -> str:
    lowered = reason.lower()
    return next((words for key, words in _EMAIL_REASONS if key in lowered), "")


def _plain(field: str, err: dict) -> str:
    """One validation error in plain words that name the field."""
    label = FIELD_LABELS.get(field, field.replace("_", " "))
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length", 1) <= 1):
        return f"Enter your {label}."
    if kind == "string_too_short":
        return f"Your {label} must be at least {ctx['min_length']} characters."
    if kind == "string_too_long":
        return f"Your {label} must be {ctx['max_length']} characters or fewer."
    if "email" in field and kind == "value_error":
        if not str(err.get("input") or "").strip():
            return f"Enter your {label}."
        return f"Enter an email address like name@example.com{_email_reason(str(ctx.get('reason', '')))}."
    msg = str(err.get("msg", "is not valid")).removeprefix("Value error, ").rstrip(".")
    return f"{msg[:1].upper()}{msg[1:]}."


def form_errors(exc, order: tuple[str, ...] = ()) -> dict[str, str]:
    """A pydantic ValidationError as {field: message} for showing beside the inputs: plain words that
    name the field, one per field, in the form's order (`order`: the fields as the form lists them)."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else "form"
        errors.setdefault(field, _plain(field, err))
    rank = {name: i for i, name in enumerate(order)}
    return dict(sorted(errors.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def field_errors(exc, fields: dict[str, str], default: str) -> dict[str, str]:
    """A business error (CadreError) as {field: message} for the form that caused it: `fields` maps the
    error's code to the field it is about; anything else is shown beside `default` (the first field the
    error can concern). The summary above the form links to that field (partials/forms.html)."""
    return {fields.get(getattr(exc, "code", ""), default): exc.message}


def ordered(errors: dict[str, str], order: tuple[str, ...]) -> dict[str, str]:
    """Messages in the order the form lists its fields, whatever order they were found in."""
    rank = {name: i for i, name in enumerate(order)}
    return dict(sorted(errors.items(), key=lambda kv: rank.get(kv[0], len(rank))))
