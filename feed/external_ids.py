"""External ids compare verbatim — except MangaUpdates, which spells one id two ways.

MangaUpdates moved from decimal ids to base-36 slugs (`hly6oqa`); both appear
in the wild for the same series (catalog imports, Codex metadata, provider
URLs). Release resolution and the Codex sweep both ask this module.
"""

from __future__ import annotations

import string

_BASE36_DIGITS = string.digits + string.ascii_lowercase
MANGAUPDATES = "mangaupdates"


def _to_base36(number: int) -> str:
    digits = ""
    while number:
        number, remainder = divmod(number, 36)
        digits = _BASE36_DIGITS[remainder] + digits
    return digits or "0"


def canonical_external_id(provider: str, external_id: str) -> str:
    """One spelling per id: trimmed; MangaUpdates as decimal (an all-digit value is decimal)."""
    value = (external_id or "").strip()
    if provider != MANGAUPDATES or not value:
        return value
    lowered = value.lower()
    if lowered.isdigit():
        return str(int(lowered))
    if set(lowered) <= set(_BASE36_DIGITS):
        return str(int(lowered, 36))
    return value


def mangaupdates_forms(external_id: str) -> tuple[str, str]:
    """Both spellings of a MangaUpdates id, decimal first: `("38093726906", "hly6oqa")`."""
    decimal = canonical_external_id(MANGAUPDATES, external_id)
    return decimal, _to_base36(int(decimal)) if decimal.isdigit() else external_id.lower()
