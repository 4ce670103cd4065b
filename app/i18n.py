"""Locale and time zone of a request (the user's choice, then the browser's, then the default); sizes in its format."""
from decimal import Decimal

from flask import current_app, g, has_request_context, request, session
from flask_babel import format_currency, format_date, format_decimal, format_time
from flask_login import current_user


def select_locale() -> str:
    """Pick the user's saved language, the session's choice, or Accept-Language (the default outside a request)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI, a job: no user, no browser
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str | None:
    """Show times in the user's time zone, else the organisation's."""
    if current_user.is_authenticated:
        return current_user.timezone
    tenant = g.get("tenant")
    return tenant.timezone if tenant is not None else None


def human_size(size: int) -> str:
    """1.5 MB, in the user's number format."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{format_decimal(round(value, 1 if unit != 'B' else 0))} {unit}"
        value /= 1024
    return f"{size} B"


def money(amount, currency: str) -> str:
    """1 234,50 € or € 1.234,50: an amount in the user's number format, with its currency."""
    return format_currency(Decimal(str(amount)), currency) if amount is not None else "—"


def amounts(by_currency: dict, currency: str) -> str:
    """Amounts in several currencies, never added up: "€1,200.00 + CHF 80.00" (zero in ``currency`` when empty)."""
    return " + ".join(money(amount, code) for code, amount in sorted(by_currency.items())) or money(0, currency)


def quantity(value) -> str:
    """A quantity, a rate or a unit price without trailing zeros (2, 2.5, 19.6), in the user's number format."""
    return format_decimal(value, format="#,##0.####")


def moment(value, all_day: bool = False, date_format: str = "medium") -> str:
    """An instant as people read it in their zone and language: "Mar 4, 2030 10:00 AM", or the day alone."""
    day = format_date(value, date_format)
    return day if all_day else f"{day} {format_time(value, 'short')}"
