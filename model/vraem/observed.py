"""The observed VRAEM coca series shipped with the package (docs/odd.md).

``data/vraem_coca_observed.csv``: coca area by year, 2004-2024, each value with its source and
caveats (UNODC and DEVIDA monitoring as quoted in the press). ``data/peru_context.csv``: national
coca area and eradication. The model starts at a survey: month ``12 * (year - start_year)`` is
compared with the survey of ``year``.
"""

from __future__ import annotations

import functools
from importlib import resources

import pandas as pd

CALIBRATION_YEARS = (2013, 2019)
"""Years the status quo is tuned to follow (inclusive)."""
VALIDATION_YEARS = (2020, 2024)
"""Years reported without tuning (out of sample)."""
ROLLING_ORIGINS = (2015, 2017)
"""Earlier calibration cuts (rolling origins, issue 17): fit 2013 to the origin, score the surveys
after it up to the next origin (2015: the 2017 survey; 2017: 2018-2019). The last origin is
``CALIBRATION_YEARS[1]`` (2019), scored on ``VALIDATION_YEARS``. Why these two: 2015 is the first
year with three surveys and the back-cast to fit, and 2016 has no survey."""


def load_observed() -> pd.DataFrame:
    """The observed VRAEM coca series: year, coca_ha, zone, source, note."""
    with resources.files("vraem.data").joinpath("vraem_coca_observed.csv").open() as fh:
        return pd.read_csv(fh)


def load_context() -> pd.DataFrame:
    """National coca area and eradication (CORAH) by year, with sources."""
    with resources.files("vraem.data").joinpath("peru_context.csv").open() as fh:
        return pd.read_csv(fh)


HISTORY_LEVERS = (
    "development_soles",
    "eradication_ha",
    "lab_raids",
    "airstrip_destructions",
    "flight_interdictions",
    "courier_arrests",
)
"""The levers of ``data/state_actions.csv``, yearly (soles/yr) or monthly (ha, counts) amounts."""


@functools.lru_cache(maxsize=1)
def state_actions() -> pd.DataFrame:
    """What the state did in the VRAEM by year (``data/state_actions.csv``), indexed by year.

    Development and infrastructure spending (soles/yr), eradication (ha/month), lab raids,
    airstrip destructions, flight interdictions and courier arrests (per month, valley-wide), and
    the ``retreat_factor`` of field operations in the pandemic years (the ``state_retreat``
    mechanism), each row with its source and the assumptions that fill the gaps.
    """
    with resources.files("vraem.data").joinpath("state_actions.csv").open() as fh:
        df = pd.read_csv(fh).set_index("year")
    return df


def month_of_year(year: int, start_year: int) -> int:
    """Simulation month that corresponds to the survey of ``year``."""
    return 12 * (year - start_year)


def load_leaf_prices() -> pd.DataFrame:
    """Observed farm-gate coca leaf prices, 2010-2020, with the price in USD/kg added.

    ``data/vraem_leaf_price_observed.csv`` (UNODC's annual coca surveys and DEVIDA's 2020 price
    monitoring, as quoted in the press) gives each price in the currency of its source: USD, or
    soles (PEN). ``price_usd_per_kg`` converts soles with :data:`vraem.params.USD_PER_SOL` (the
    2013 rate, 3.3 soles per USD; the 2020 rate was about 3.4, so 2020 prices in USD are about 3%
    high). ``year`` and ``month`` (1-12, or 0 for an annual mean) are parsed from ``date``.
    """
    from vraem.params import USD_PER_SOL

    with resources.files("vraem.data").joinpath("vraem_leaf_price_observed.csv").open() as fh:
        df = pd.read_csv(fh, dtype={"date": str})
    parts = df["date"].str.split("-", expand=True)
    df["year"] = parts[0].astype(int)
    df["month"] = parts[1].fillna("0").astype(int) if parts.shape[1] > 1 else 0
    rate = df["currency"].map({"USD": 1.0, "PEN": USD_PER_SOL})
    if rate.isna().any():
        raise ValueError(f"vraem_leaf_price_observed.csv: unknown currency in {set(df['currency'])}")
    df["price_usd_per_kg"] = df["price"] * rate
    return df


def month_of_date(date: str, start_year: int) -> int:
    """Simulation month of ``"YYYY-MM"`` (a monthly figure) or ``"YYYY"`` (its survey month)."""
    year, _, month = date.partition("-")
    return 12 * (int(year) - start_year) + (int(month) - 1 if month else 0)
