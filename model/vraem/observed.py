"""The observed VRAEM coca series shipped with the package (MODEL_SPEC section 7).

``data/vraem_coca_observed.csv``: coca area by year, 2004-2024, each value with its source and
caveats (UNODC and DEVIDA monitoring as quoted in the press). ``data/peru_context.csv``: national
coca area and eradication. The model starts at a survey: month ``12 * (year - start_year)`` is
compared with the survey of ``year``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

CALIBRATION_YEARS = (2013, 2019)
"""Years the status quo is tuned to follow (inclusive)."""
VALIDATION_YEARS = (2020, 2024)
"""Years reported without tuning (out of sample)."""


def load_observed() -> pd.DataFrame:
    """The observed VRAEM coca series: year, coca_ha, zone, source, note."""
    with resources.files("vraem.data").joinpath("vraem_coca_observed.csv").open() as fh:
        return pd.read_csv(fh)


def load_context() -> pd.DataFrame:
    """National coca area and eradication (CORAH) by year, with sources."""
    with resources.files("vraem.data").joinpath("peru_context.csv").open() as fh:
        return pd.read_csv(fh)


def month_of_year(year: int, start_year: int) -> int:
    """Simulation month that corresponds to the survey of ``year``."""
    return 12 * (year - start_year)
