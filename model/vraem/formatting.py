"""Numbers for people: the one formatter of the report, the comparison tables and the console.

Thousands separators always ("40,000", not "40000"), and the same precision for the same quantity:
a table row, a column or a sentence formats all its values with the decimals that its largest value
needs (:func:`decimals_for`), so that "434 ha" stands beside "9,312 ha", never "433.6 ha".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

MISSING = "–"
"""Shown for a missing or non-finite number."""


def _finite(x: Any) -> bool:
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def decimals_for(values: Iterable[Any], percent: bool = False) -> int:
    """Decimals for a group of values of one quantity, set by the largest absolute value.

    Values of 100 or more get none, 10-100 one, 1-10 two, smaller values enough for two significant
    digits. Percentages (shares, shown x100) get none from 10% up and one below.
    """
    finite = [abs(float(v)) * (100 if percent else 1) for v in values if _finite(v) and float(v) != 0]
    if not finite:
        return 0
    top = max(finite)
    if percent:
        return 0 if top >= 9.5 else 1
    if top >= 99.5:
        return 0
    if top >= 9.95:
        return 1
    if top >= 0.995:
        return 2
    return min(1 - math.floor(math.log10(top)), 6)


def fmt(x: Any, decimals: int | None = None, percent: bool = False) -> str:
    """One number with thousands separators; ``decimals`` from :func:`decimals_for` if not given.

    Args:
        x: The number (None, NaN and infinities print as a dash).
        decimals: Digits after the point; pass the decimals of the number's group
            (:func:`formatter`) so that one quantity has one precision.
        percent: Print a share (0.25) as a percentage (25%).
    """
    if not _finite(x):
        return MISSING
    x = float(x)
    if decimals is None:
        decimals = decimals_for([x], percent)
    value = 100 * x if percent else x
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":  # -0, -0.0: no sign on zero
        text = text.lstrip("-")
    return text + ("%" if percent else "")


def formatter(values: Iterable[Any], percent: bool = False) -> Callable[[Any], str]:
    """A formatter for a group of values of one quantity: one precision for all of them."""
    decimals = decimals_for(list(values), percent)
    return lambda x: fmt(x, decimals, percent)


def fmt_value(x: Any) -> str:
    """A parameter value as given (up to 6 significant digits), with thousands separators."""
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.6g}"
    if isinstance(x, list | tuple):
        return "[" + ", ".join(fmt_value(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {fmt_value(v)}" for k, v in x.items()) + "}"
    return str(x)
