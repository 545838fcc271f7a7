"""The policy timeline: phases that set the state's levers month by month.

A scenario's ``policy.phases`` is a list of phases, each with a ``start_month`` and an optional
``end_month`` (exclusive). In a month covered by no phase every lever is off. Capacities are for
the whole valley and are scaled with the number of households (see ``params.REFERENCE_HOUSEHOLDS``),
except the levers that act on the export route (airstrip destructions, forced landings, courier
arrests): the route keeps the full valley's strips, flights and couriers at any scale, each
carrying ``scale`` of its load (:mod:`vraem.agents.cartel`), so these stay full-valley counts.

Levers, following docs/odd.md: eradication capacity and targeting, development budget,
interdiction (lab raids, airstrip destructions, flight interdictions, courier arrests) and the
replanting probability (a scenario may set it, e.g. the 0.3/0.5/0.7 replanting variants).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vraem.user_input import NumbersNotBooleans


class Targeting(StrEnum):
    """How eradication teams choose fields (docs/odd.md)."""

    ACCESSIBLE = "accessible"
    """Fields nearest the roads first: cheapest and safest."""
    INTELLIGENCE = "intelligence"
    """The densest coca first, found with community information."""
    RANDOM = "random"
    """Anywhere coca grows."""


MAX_MONTHS = 1200
"""Longest run, months (a century): a run's time and its table grow with its months."""
MAX_ERADICATION_HA_PER_MONTH = 1_000_000.0
"""More than all the land of the default valley (72 x 56 cells of 156 ha, about 630,000 ha); Peru's
national record is about 25,000 ha in a whole year."""
MAX_BUDGET_SOLES_PER_YEAR = 240e9
"""Peru's entire public budget (about S/ 240 billion in 2024): no programme can spend more."""
MAX_ACTIONS_PER_MONTH = 10_000.0
"""Raids, destructions, interdictions, arrests: hundreds of times any campaign on record (about 20
lab raids a month, seed interview). The counts are Poisson draws, which need a finite, sane rate."""


class PolicyPhase(NumbersNotBooleans):
    """One phase of the policy timeline; every lever defaults to off."""

    # allow_inf_nan=False: .inf or .nan for a lever is refused when the scenario is loaded.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    start_month: int = Field(0, ge=0, le=MAX_MONTHS, description="first month of the phase")
    end_month: int | None = Field(None, ge=1, le=MAX_MONTHS, description="month the phase stops (exclusive)")
    eradication_ha_per_month: float = Field(
        0.0, ge=0, le=MAX_ERADICATION_HA_PER_MONTH, description="ha/month, valley-wide"
    )
    eradication_targeting: Targeting = Targeting.ACCESSIBLE
    spare_agreement_households: bool = Field(
        False, description="do not eradicate households that signed a no-coca agreement"
    )
    development_budget_soles_per_year: float = Field(
        0.0, ge=0, le=MAX_BUDGET_SOLES_PER_YEAR, description="soles/yr"
    )
    monitor_agreements: bool = Field(
        False, description="check that households under a no-coca agreement keep it (deters defection)"
    )
    lab_raids_per_month: float = Field(0.0, ge=0, le=MAX_ACTIONS_PER_MONTH, description="raids/month")
    airstrip_destructions_per_month: float = Field(
        0.0, ge=0, le=MAX_ACTIONS_PER_MONTH, description="strips/month"
    )
    flight_interdictions_per_month: float = Field(
        0.0, ge=0, le=MAX_ACTIONS_PER_MONTH, description="forced landings/month"
    )
    courier_arrests_per_month: float = Field(
        0.0, ge=0, le=MAX_ACTIONS_PER_MONTH, description="couriers/month"
    )
    p_replant: float | None = Field(
        None, ge=0, le=1, description="replanting probability; default farmer.p_replant"
    )
    observed_history: bool = Field(
        False,
        description="take the amounts of development money, eradication and interdiction from what"
        " the state did in each calendar year (data/state_actions.csv); after its last year, the"
        " last year's amounts hold",
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> PolicyPhase:
        if self.end_month is not None and self.end_month <= self.start_month:
            raise ValueError(
                f"end_month must be greater than start_month ({self.start_month}), got {self.end_month}"
            )
        if self.observed_history:
            given = [name for name in _AMOUNTS.values() if getattr(self, name) != 0.0]
            if given:
                raise ValueError(
                    f"observed_history takes {given[0]} from data/state_actions.csv; remove it from this"
                    " phase (or set observed_history: false)"
                )
        return self


class Policy(BaseModel):
    """An ordered, non-overlapping list of phases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phases: list[PolicyPhase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Policy:
        for prev, nxt in zip(self.phases, self.phases[1:], strict=False):
            end = prev.end_month
            if end is None or end > nxt.start_month:
                raise ValueError(
                    "phases must be in order and not overlap: a phase starting at month "
                    f"{nxt.start_month} begins before the previous one ends "
                    f"({'never' if end is None else end}); give the previous phase an end_month"
                )
        return self

    def materialized(self, start_year: int, retreat: bool = True) -> Policy:
        """The same timeline with every ``observed_history`` phase written out as explicit phases.

        Each calendar year of the state's record becomes a phase with its amounts (years with equal
        amounts merged), the last year open-ended as the record's last year holds; the runs are
        identical. Tools that edit amounts phase by phase (the classroom app's sliders) need them.
        """
        from vraem.observed import state_actions

        last_year = int(state_actions().index.max())
        out: list[PolicyPhase] = []
        for phase in self.phases:
            if not phase.observed_history:
                out.append(phase)
                continue
            month = phase.start_month
            while phase.end_month is None or month < phase.end_month:
                year = start_year + month // 12
                next_month = 12 * (year - start_year + 1)
                end = None if year >= last_year else next_month
                if phase.end_month is not None:
                    end = phase.end_month if end is None else min(end, phase.end_month)
                piece = phase.model_copy(
                    update={
                        **observed_amounts(year, retreat),
                        "observed_history": False,
                        "start_month": month,
                        "end_month": end,
                    }
                )
                previous = out[-1] if out else None
                if previous is not None and previous.end_month == month and _same_levers(previous, piece):
                    out[-1] = previous.model_copy(update={"end_month": end})
                else:
                    out.append(piece)
                if end is None:
                    break
                month = end
        return Policy(phases=out)

    def phase_at(self, month: int) -> PolicyPhase | None:
        """The phase in force in ``month``, or None."""
        for phase in self.phases:
            if phase.start_month <= month and (phase.end_month is None or month < phase.end_month):
                return phase
        return None


_AMOUNTS = {
    "development_soles": "development_budget_soles_per_year",
    "eradication_ha": "eradication_ha_per_month",
    "lab_raids": "lab_raids_per_month",
    "airstrip_destructions": "airstrip_destructions_per_month",
    "flight_interdictions": "flight_interdictions_per_month",
    "courier_arrests": "courier_arrests_per_month",
}
"""The phase's amounts by column of the state's record (:data:`vraem.observed.HISTORY_LEVERS`)."""


def _same_levers(a: PolicyPhase, b: PolicyPhase) -> bool:
    """Whether two phases set every lever alike (their months aside)."""
    skip = {"start_month", "end_month"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)


OFF = PolicyPhase()


@dataclass(frozen=True, slots=True)
class Levers:
    """The levers in force in one month, scaled to the simulated valley.

    The export route's levers (``airstrip_destructions``, ``flight_interdictions``,
    ``courier_arrests``) are not scaled: they act on the full valley's count of strips, flights and
    couriers, which the route keeps at any scale (docs/model.md, the scaling rule).
    """

    eradication_ha: float
    targeting: Targeting
    spare_agreement_households: bool
    development_soles: float
    monitor_agreements: bool
    lab_raids: float
    airstrip_destructions: float
    flight_interdictions: float
    courier_arrests: float
    p_replant: float


def observed_amounts(year: int, retreat: bool) -> dict[str, float]:
    """The phase amounts (:data:`_AMOUNTS`) the state's record gives for a calendar year.

    Years before the record take its first year, years after it its last (the status quo carries
    on). Field operations (eradication, raids, destructions, interdictions, arrests) are cut by the
    year's ``retreat_factor`` (the pandemic's 2020-2021 retreat) when ``retreat`` is on.
    """
    return dict(_observed_amounts(int(year), bool(retreat)))


@functools.lru_cache(maxsize=256)
def _observed_amounts(year: int, retreat: bool) -> tuple[tuple[str, float], ...]:
    """:func:`observed_amounts`, read from the record once per year and process.

    A run under the status quo asks for them every month, and a row lookup in the record's
    DataFrame cost a sixth of a small valley's month (docs/performance.md).
    """
    from vraem.observed import HISTORY_LEVERS, state_actions

    table = state_actions()
    row = table.loc[min(max(year, table.index.min()), table.index.max())]
    factor = float(row["retreat_factor"]) if retreat else 1.0
    out = []
    for column in HISTORY_LEVERS:
        value = float(row[column])
        out.append((_AMOUNTS[column], value if column == "development_soles" else value * factor))
    return tuple(out)


def levers_at(
    policy: Policy,
    month: int,
    scale: float,
    default_p_replant: float,
    start_year: int = 2013,
    retreat: bool = True,
) -> Levers:
    """Resolve the policy for one month: monthly amounts scaled to the valley's size.

    A phase with ``observed_history`` takes its amounts from the state's record for the calendar
    year of ``month`` (``start_year`` is month 0), with the 2020-2021 retreat when ``retreat``.

    A thinned export route would hold a handful of strips, flights and couriers at classroom scale,
    and its caps (no more forced landings than flights, no flights without a strip) would then bind
    far more often than in the full valley, and a heavy interdiction campaign cut coca far less at
    1,500 households than at 20,000 (tests/test_scaling.py). So the route keeps its full count and
    its levers are full-valley counts.
    """
    phase = policy.phase_at(month) or OFF
    if phase.observed_history:
        phase = phase.model_copy(update=observed_amounts(start_year + month // 12, retreat))
    return Levers(
        eradication_ha=phase.eradication_ha_per_month * scale,
        targeting=phase.eradication_targeting,
        spare_agreement_households=phase.spare_agreement_households,
        development_soles=phase.development_budget_soles_per_year / 12.0 * scale,
        monitor_agreements=phase.monitor_agreements,
        lab_raids=phase.lab_raids_per_month * scale,
        airstrip_destructions=phase.airstrip_destructions_per_month,
        flight_interdictions=phase.flight_interdictions_per_month,
        courier_arrests=phase.courier_arrests_per_month,
        p_replant=default_p_replant if phase.p_replant is None else phase.p_replant,
    )
