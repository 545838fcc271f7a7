"""The assumptions that drive the long run, in words, derived from the resolved parameters.

A run that goes past the observed data must assume what legal prices and export demand do next,
and which model mechanisms are in force; those choices, not the policies, can dominate the results
(in the shipped scenarios, the 2024 cacao price spike held to 2033). :func:`long_run_assumptions`
reads them from a scenario's resolved parameters (as a results manifest stores them) and says them
in sentences for the findings, and in one short line for every figure caption. Nothing here is
hard-coded text about the model's current defaults: change a price path, the demand growth or the
mechanisms, and the sentences change with them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vraem.formatting import fmt
from vraem.params import ModelParams

PRICE_PATHS = {
    "cacao_price_index_by_year": ("cacao", "ICCO cocoa"),
    "coffee_price_index_by_year": ("coffee", "ICO composite coffee"),
}
"""Legal price paths of ``parameters.crops`` (yearly index, year 1 = the first 12 months)."""


@dataclass(frozen=True)
class Assumptions:
    """What a run assumes beyond its data: full sentences, and one short line for captions."""

    sentences: tuple[str, ...]
    short: str


def _year(start_year: float, months: float) -> str:
    return f"{start_year + months / 12:.0f}"


def _years(n: float) -> str:
    n = round(n, 1)
    return f"{n:g} year" + ("" if n == 1 else "s")


def _shipped(group: str, name: str) -> Any:
    return getattr(getattr(ModelParams(), group), name, None)


def _rate(key: str, value: float, varied: Mapping[str, tuple[float, float]]) -> str:
    """A yearly rate as a percentage, or its range when it varies between runs."""
    if key in varied:
        lo, hi = varied[key]
        if lo != hi:
            return f"{fmt(lo, 1, percent=True)[:-1]}-{fmt(hi, 1, percent=True)}"
    return fmt(value, 1 if abs(value) < 0.095 else 0, percent=True)


def _prices(crops: Mapping[str, Any], start: int, months: int) -> tuple[str, str] | None:
    """Legal price paths after their data end: (sentence, short part); None if not recorded."""
    paths = {}
    for key, (crop, source) in PRICE_PATHS.items():
        if key in crops:
            path = tuple(float(x) for x in crops.get(key) or ())
            paths[crop] = (source, path, path == tuple(_shipped("crops", key) or ()))
    if not paths:
        return None
    crops_text = " and ".join(paths)
    lengths = {len(path) for _, path, _ in paths.values()}
    if lengths == {0}:
        flat = f"Legal prices: {crops_text} at the {start} price throughout (no price path)."
        return flat, "legal prices flat"
    if len(lengths) > 1 or 0 in lengths:  # paths of different lengths: crop by crop
        parts = [_prices({k: crops[k]}, start, months) for k in PRICE_PATHS if k in crops]
        return " ".join(p[0] for p in parts if p), "; ".join(p[1] for p in parts if p)
    n = lengths.pop()
    many = len(paths) > 1
    follow, held, its, level = (
        ("follow", "are held", "their", "levels") if many else ("follows", "is held", "its", "level")
    )
    last_year = start + n - 1
    observed = all(shipped for _, _, shipped in paths.values())
    sources = ", ".join(src for src, _, _ in paths.values())
    what = f"the observed world prices ({sources})" if observed else "the scenario's own price path"
    if months <= 12 * n:
        return (
            f"Legal prices: {crops_text} {follow} {what} for the whole run, to {_year(start, months)}; "
            "nothing is assumed beyond the data.",
            "legal prices as observed" if observed else "legal prices on the scenario's path",
        )
    levels = ", ".join(f"{crop} {path[-1]:.2f}x" for crop, (_, path, _) in paths.items())
    short_levels = ", ".join(f"{crop} {path[-1]:.1f}x" for crop, (_, path, _) in paths.items())
    rate = crops.get("world_price_reversion_per_year")
    if rate is not None and float(rate) > 0:
        long_run = {crop: crops.get(f"{crop}_long_run_index") for crop in paths}
        if all(v is not None for v in long_run.values()):
            to = ", ".join(f"{crop} {float(v):.2f}x" for crop, v in long_run.items())
            half_life = math.log(2.0) / float(rate)
            return (
                f"Legal prices: {crops_text} {follow} {what} to {last_year} ({levels} the {start} price), "
                f"then revert toward {its} long-run {level} ({to}) with a half-life of "
                f"{_years(half_life)} for the remaining {_years((months - 12 * n) / 12)} of the run, "
                f"to {_year(start, months)}.",
                f"legal prices revert after {last_year} toward {to} (half-life {_years(half_life)})",
            )
    return (
        f"Legal prices: {crops_text} {follow} {what} to {last_year}, then {held} at {its} {last_year} "
        f"{level} ({levels} the {start} price) for the remaining {_years((months - 12 * n) / 12)} "
        f"of the run, to {_year(start, months)}.",
        f"legal prices held at {last_year} levels after {last_year} ({short_levels} {start})",
    )


def _demand(
    market: Mapping[str, Any], start: int, months: int, varied: Mapping[str, tuple[float, float]]
) -> tuple[str, str] | None:
    if "export_demand_growth_per_year" not in market:
        return None
    path = [float(x) for x in market.get("export_demand_growth_by_year") or []]
    run_years = months / 12
    if path:
        end = start + len(path)
        if len(path) >= run_years:
            long = f"follows the scenario's yearly growth path for the whole run, to {_year(start, months)}"
            short = "export demand on the scenario's path"
        else:
            long = (
                f"follows the scenario's yearly growth path to {end - 1}, then holds flat at that level "
                f"for the remaining {_years(run_years - len(path))}, to {_year(start, months)}"
            )
            short = f"export demand flat after {end - 1}"
    elif market.get("export_demand_index_by_year"):
        index = [float(x) for x in market["export_demand_index_by_year"]]
        last = start + len(index) - 1
        key = "market.export_demand_growth_per_year"
        rate = _rate(key, float(market["export_demand_growth_per_year"]), varied)
        spread = " (the range over the runs' parameters)" if key in varied else ""
        grow = float(market.get("export_demand_growth_years", 0.0))
        after = len(index) - 1 + grow
        if grow <= 0 or rate in ("0%", "0.0%"):
            tail = f"then holds flat at its {last} level for the rest of the run, to {_year(start, months)}"
            short = f"export demand observed to {last}, flat after"
        elif after >= run_years:
            tail = f"then grows {rate} a year{spread} for the rest of the run, to {_year(start, months)}"
            short = f"export demand observed to {last}, growing after"
        else:
            tail = (
                f"then grows {rate} a year{spread} for {grow:g} years, to {_year(start, 12 * after)}, "
                "then holds "
                f"flat for the remaining {_years(run_years - after)}, to {_year(start, months)}"
            )
            short = f"export demand observed to {last}, growing to {_year(start, 12 * after)}, flat after"
        long = (
            f"follows the observed index of world cocaine use to {last} ({index[-1]:.2f}x the first year), "
            f"{tail}"
        )
    else:
        key = "market.export_demand_growth_per_year"
        rate = _rate(key, float(market["export_demand_growth_per_year"]), varied)
        if "market.export_demand_growth_years" in varied:
            lo, hi = varied["market.export_demand_growth_years"]
            years = f"{lo:g}-{hi:g}"
            grow = hi
        else:
            grow = float(market.get("export_demand_growth_years", run_years))
            years = f"{grow:g}"
        spread = " (the range over the runs' parameters)" if key in varied else ""
        if grow <= 0 or rate in ("0%", "0.0%"):
            long, short = "stays at its starting level for the whole run", "export demand flat"
        elif grow >= run_years:
            long = f"grows {rate} a year{spread} for the whole run, to {_year(start, months)}"
            short = f"export demand +{rate}/yr throughout"
        else:
            long = (
                f"grows {rate} a year{spread} for {years} years, to {_year(start, 12 * grow)}, then holds "
                f"flat at that level for the remaining {_years(run_years - grow)} of the run, to "
                f"{_year(start, months)}"
            )
            short = f"export demand +{rate}/yr to {_year(start, 12 * grow)}, flat after"
    shocks = market.get("export_demand_shock_by_month") or {}
    if shocks:
        hit = sorted(int(m) for m in shocks)
        first, last = _year(start, hit[0]), _year(start, hit[-1])
        when = first if first == last else f"{first} to {last}"
        long += f", with one-off shocks in {len(hit)} month(s) in {when}"
    return f"Export demand for the valley's cocaine base {long}.", short


def _mechanisms(parameters: Mapping[str, Any]) -> tuple[str, str]:
    if "mechanisms" not in parameters:
        return (
            "Model mechanisms: these results record no mechanism switches (they were made before the "
            "model had named alternative mechanisms), so the reference model ran.",
            "mechanisms: not recorded (reference model)",
        )
    value = parameters["mechanisms"]
    off: list[str] = []
    if isinstance(value, Mapping):  # {name: on?}, as ModelParams stores the switches
        names = [str(k) for k, on in value.items() if on]
        off = [str(k) for k, on in value.items() if not on]
    elif isinstance(value, str):
        names = [value] if value else []
    else:
        names = [str(x) for x in value or []]
    if not names:
        return (
            "Model mechanisms: the reference model, with no alternative mechanism switched on.",
            "mechanisms: none (reference model)",
        )
    listed = ", ".join(names)
    rest = f" (off: {', '.join(off)})" if off else ""
    return f"Model mechanisms switched on: {listed}{rest}.", f"mechanisms: {listed}{rest}"


def long_run_assumptions(
    parameters: Mapping[str, Any],
    start_year: int,
    months: int,
    varied: Mapping[str, tuple[float, float]] | None = None,
) -> Assumptions:
    """Say what a run assumes about legal prices, export demand and mechanisms after its data.

    Args:
        parameters: A scenario's resolved parameter groups (``manifest["scenarios"][i]["resolved"]
            ["parameters"]``, or ``ModelParams().model_dump(mode="json")``).
        start_year: Calendar year of month 0.
        months: Months simulated.
        varied: Dotted parameters that differ between the runs (posterior draws, swept points),
            with their (lowest, highest) value, to state ranges instead of one value.

    Returns:
        The sentences (legal prices, export demand, mechanisms) and one short line of the same.
    """
    varied = varied or {}
    crops = parameters.get("crops") or {}
    market = parameters.get("market") or {}
    parts = [
        p
        for p in (
            _prices(crops, int(start_year), int(months)),
            _demand(market, int(start_year), int(months), varied),
        )
        if p is not None
    ]
    if not parts:
        parts.append(
            (
                "Legal prices and export demand: not recorded in these results' parameters.",
                "prices and demand not recorded",
            )
        )
    parts.append(_mechanisms(parameters))
    short = "Assumed: " + "; ".join(p[1] for p in parts) + "."
    return Assumptions(tuple(p[0] for p in parts), short)
