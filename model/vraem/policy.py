"""The policy timeline: phases that set the state's levers month by month.

A scenario's ``policy.phases`` is a list of phases, each with a ``start_month`` and an optional
``end_month`` (exclusive). In a month covered by no phase every lever is off. Capacities are for
the whole valley and are scaled with the number of households (see ``params.REFERENCE_HOUSEHOLDS``).

Levers, following docs/odd.md: eradication capacity and targeting, development budget,
interdiction (lab raids, airstrip destructions, flight interdictions, courier arrests) and the
replanting probability (a scenario may set it, e.g. the 0.3/0.5/0.7 replanting variants).
"""

from __future__ import annotations

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
    end_month: int | None = Field(
        None, ge=1, le=MAX_MONTHS, description="month the phase stops (exclusive)"
    )
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
    lab_raids_per_month: float = Field(
        0.0, ge=0, le=MAX_ACTIONS_PER_MONTH, description="raids/month"
    )
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

    @model_validator(mode="after")
    def _end_after_start(self) -> PolicyPhase:
        if self.end_month is not None and self.end_month <= self.start_month:
            raise ValueError(
                f"end_month must be greater than start_month ({self.start_month}), got {self.end_month}"
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

    def phase_at(self, month: int) -> PolicyPhase | None:
        """The phase in force in ``month``, or None."""
        for phase in self.phases:
            if phase.start_month <= month and (phase.end_month is None or month < phase.end_month):
                return phase
        return None


OFF = PolicyPhase()


@dataclass(frozen=True, slots=True)
class Levers:
    """The levers in force in one month, scaled to the simulated valley."""

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


def levers_at(policy: Policy, month: int, scale: float, default_p_replant: float) -> Levers:
    """Resolve the policy for one month: monthly amounts scaled to the valley's size."""
    phase = policy.phase_at(month) or OFF
    return Levers(
        eradication_ha=phase.eradication_ha_per_month * scale,
        targeting=phase.eradication_targeting,
        spare_agreement_households=phase.spare_agreement_households,
        development_soles=phase.development_budget_soles_per_year / 12.0 * scale,
        monitor_agreements=phase.monitor_agreements,
        lab_raids=phase.lab_raids_per_month * scale,
        airstrip_destructions=phase.airstrip_destructions_per_month * scale,
        flight_interdictions=phase.flight_interdictions_per_month * scale,
        courier_arrests=phase.courier_arrests_per_month * scale,
        p_replant=default_p_replant if phase.p_replant is None else phase.p_replant,
    )
