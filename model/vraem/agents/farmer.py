"""Farmer households (campesinos / cocaleros): their state and its set-up (docs/odd.md, sections 2 and 5).

A household's state lives in the columns of :class:`Households` (one NumPy array per
attribute), and the monthly phases of all households run as compiled loops over those columns
(:mod:`vraem.jit` kernels): a per-household Python loop would cost about 0.6 us per agent per step
before doing anything, too slow for 20,000 households over 240 months. Each household can also be
addressed as a Mesa agent (:class:`Farmer`) on its home cell, a view of its row; these agents are
built on first use (:func:`household_agents`, ``VraemModel.farmers``), for the UI and tests, so
that a sweep's runs do not pay for objects nothing reads.

The households' rules live in modules named for the ODD submodels they implement (docs/odd.md,
section 7):

- :mod:`vraem.agents.expectations`: expectations and perceived risk (7.2);
- :mod:`vraem.agents.coca_wanted`: the coca a household wants (7.3);
- :mod:`vraem.agents.land`: land change (7.4);
- :mod:`vraem.agents.legal_crops`: legal prices at the farm gate, disease, altitude, legal crops (7.4);
- :mod:`vraem.agents.harvest`: the coca harvest (7.4);
- :mod:`vraem.agents.replanting`: replanting after eradication (7.7);
- :mod:`vraem.agents.maturation`: crops mature (7.12);
- :mod:`vraem.agents.soils`: soils per plot (7.13);
- :mod:`vraem.agents.income`: household income and savings (7.14);
- :mod:`vraem.agents.standing_coca`: standing coca (7.17);
- :mod:`vraem.agents.rising_yields`: rising yields (7.18).

The behaviour rules (``@rule``) are module-level functions that work on scalars and arrays alike:
a kernel calls them household by household, and the same rule serves one household or all of them
as NumPy arrays from Python (tests, set-up, the UI). A phase function unpacks the columns and
parameters and calls its kernel (the ``_``-prefixed function beside it); the kernels compose rules
and never restate their equations.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np
from mesa.discrete_space import CellAgent

from vraem.jit import kernel, maximum, rule, unsigned, where

HOME, REMOTE = 0, 1
"""Plot index: the home field, and a field opened in more remote forest (the balloon effect)."""


class HouseholdType(IntEnum):
    """Moral cost of growing coca (Colombian field experiment, docs/odd.md)."""

    NEVER = 0
    """About one third would never grow coca."""
    RESPONSIVE = 1
    """Grow coca, but stop for a moderate incentive."""
    COMMITTED = 2
    """About two fifths need extreme compensation or risk to stop."""


class Zone(IntEnum):
    """Altitude zone of a household's home farm: which perennial its altitude allows (docs/odd.md)."""

    LOW = 0
    """Below ``programme.cacao_below_m``: cacao (or food crops)."""
    MID = 1
    """Up to ``crops.coffee_max_m``: coffee (or food crops)."""
    HIGH = 2
    """Above: food crops only."""


class ProgrammeStage(IntEnum):
    """The development programme's sequence (seed interview; docs/odd.md)."""

    NONE = 0
    ID = 1
    TITLE = 2
    SOIL = 3
    QUICK_CROPS = 4
    PERENNIAL = 5


@rule
def altitude_zone(elevation_m, cacao_below_m, coffee_below_m):
    """A farm's :class:`Zone` from its altitude: cacao in the low valley, coffee above, then food only.

    Cacao below ``cacao_below_m`` and coffee up to ``coffee_below_m`` (assumptions with ranges,
    docs/odd.md section 8); the zones' shares of households follow the generated valley's farmland.
    """
    return where(
        elevation_m < cacao_below_m, Zone.LOW, where(elevation_m < coffee_below_m, Zone.MID, Zone.HIGH)
    )


@dataclass
class Households:
    """Columns of household state; index ``i`` is household ``i`` (``Farmer.idx``)."""

    cell: np.ndarray
    remote_cell: np.ndarray
    district: np.ndarray
    clan: np.ndarray
    kind: np.ndarray
    farm_ha: np.ndarray
    coca_young: np.ndarray
    """(2, n) ha: home and remote plots."""
    coca_mature: np.ndarray
    food_young: np.ndarray
    food_mature: np.ndarray
    cacao_young: np.ndarray
    cacao_mature: np.ndarray
    coffee_young: np.ndarray
    coffee_mature: np.ndarray
    fallow: np.ndarray
    savings: np.ndarray
    trust: np.ndarray
    stage: np.ndarray
    months_in_stage: np.ndarray
    in_programme: np.ndarray
    agreement: np.ndarray
    value_at_signing: np.ndarray
    """Expected leaf value (USD/kg) when the household signed its agreement."""
    months_unsupported: np.ndarray
    """Months since the programme last delivered to the household."""
    processes_paste: np.ndarray
    child_courier: np.ndarray
    worry: np.ndarray
    soil_bonus: np.ndarray
    soil_home: np.ndarray
    """Soil fertility (0-1) of the home farm."""
    soil_remote: np.ndarray
    """Soil fertility (0-1) of the remote field (the remote cell's soil until the field is opened)."""
    expected_leaf_value: np.ndarray
    risk: np.ndarray
    income: np.ndarray
    coca_income: np.ndarray
    legal_income: np.ndarray
    eradicated: np.ndarray
    replanted: np.ndarray
    programme_order: np.ndarray
    zone: np.ndarray
    """Altitude zone of the home farm (:class:`Zone`, fixed)."""
    coca_ha_at_signing: np.ndarray
    """Coca the household held when it signed its agreement, ha (what it gave up)."""
    coca_idle: np.ndarray
    """Mature coca left standing unharvested, ha (``mechanisms.standing_coca``; counted in ``coca_ha``)."""

    @property
    def n(self) -> int:
        """Number of households."""
        return self.cell.size

    def coca_ha(self) -> np.ndarray:
        """Coca ha per household, young and mature, both plots."""
        return (self.coca_young + self.coca_mature).sum(axis=0)

    def legal_ha(self) -> np.ndarray:
        """Legal crop ha per household."""
        return (
            self.food_young
            + self.food_mature
            + self.cacao_young
            + self.cacao_mature
            + self.coffee_young
            + self.coffee_mature
        )

    def nbytes(self) -> int:
        """Memory held by the columns."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))


class Farmer(CellAgent):
    """A farm household: a Mesa agent whose state is row ``idx`` of the model's ``Households``."""

    def __init__(self, model, idx: int, cell) -> None:
        super().__init__(model)
        self.idx = idx
        self.cell = cell

    def _col(self, name: str):
        return getattr(self.model.households, name)[self.idx]

    @property
    def kind(self) -> HouseholdType:
        """Moral type of the household."""
        return HouseholdType(int(self._col("kind")))

    @property
    def stage(self) -> ProgrammeStage:
        """Programme stage reached."""
        return ProgrammeStage(int(self._col("stage")))

    @property
    def coca_ha(self) -> float:
        """Coca ha, young and mature, home and remote."""
        h = self.model.households
        return float(h.coca_young[:, self.idx].sum() + h.coca_mature[:, self.idx].sum())

    @property
    def legal_ha(self) -> float:
        """Legal crop ha."""
        h = self.model.households
        return float(
            h.food_young[self.idx]
            + h.food_mature[self.idx]
            + h.cacao_young[self.idx]
            + h.cacao_mature[self.idx]
            + h.coffee_young[self.idx]
            + h.coffee_mature[self.idx]
        )

    @property
    def trust(self) -> float:
        """Trust in the state, 0-1."""
        return float(self._col("trust"))

    @property
    def income_usd_per_month(self) -> float:
        """Net income last month, USD."""
        return float(self._col("income"))

    @property
    def agreement(self) -> bool:
        """Signed a no-coca agreement."""
        return bool(self._col("agreement"))

    def as_dict(self) -> dict:
        """The household's state as plain values (for the UI and tests)."""
        return {
            "idx": self.idx,
            "kind": self.kind.name,
            "stage": self.stage.name,
            "coca_ha": self.coca_ha,
            "legal_ha": self.legal_ha,
            "trust": self.trust,
            "income_usd_per_month": self.income_usd_per_month,
            "agreement": self.agreement,
        }


def household_agents(model) -> list[Farmer]:
    """One :class:`Farmer` agent per household, on its home cell (index ``i`` is household ``i``)."""
    L = model.landscape
    return [Farmer(model, i, L.cell(c)) for i, c in enumerate(model.households.cell)]


def draw_remote_fields(L, cell: np.ndarray, radius: int, rng: np.random.Generator) -> np.ndarray:
    """A remote field for each home cell: the most remote of three random spots a few cells away."""
    n = cell.size
    x, y = L.xy(cell)
    offsets = rng.integers(-radius, radius + 1, size=(3, 2, n))
    cx = np.clip(x + offsets[:, 0], 0, L.width - 1)
    cy = np.clip(y + offsets[:, 1], 0, L.height - 1)
    cand = cx * L.height + cy
    best = np.argmax(L.layer("dist_road")[cand] + L.layer("forest_ha")[cand] / L.cell_ha, axis=0)
    return cand[best, np.arange(n)]


def create_households(model, rng: np.random.Generator) -> Households:
    """Draw the households, place them on farmland and give them their initial land.

    Households settle with probability proportional to a cell's farmland and coca suitability.
    Initial coca is each household's desired coca under the opening prices, rescaled so that the
    valley total equals the observed area (UNODC: 19,167 ha in 2013); the rescaling factor is kept
    in ``model.initial_coca_rescale`` (near 1 when the calibration is consistent).
    """
    p = model.params
    fp, L = p.farmer, model.landscape
    n = fp.n_households
    weight = L.layer("farm_capacity_ha") * (0.25 + L.layer("suitability"))
    cell = rng.choice(L.n_cells, size=n, p=weight / weight.sum())
    remote = draw_remote_fields(L, cell, fp.remote_field_radius_cells, rng)

    u = rng.random(n)
    kind = np.where(
        u < fp.share_never,
        HouseholdType.NEVER,
        np.where(u < fp.share_never + fp.share_committed, HouseholdType.COMMITTED, HouseholdType.RESPONSIVE),
    ).astype(np.int8)
    farm = fp.farm_ha_mean * rng.lognormal(-(fp.farm_size_sigma**2) / 2, fp.farm_size_sigma, n)
    spread = fp.initial_legal_spread
    legal = np.minimum(
        fp.initial_legal_ha_mean * rng.uniform(1 - spread, 1 + spread, n), fp.max_initial_legal_share * farm
    )
    perennial_share = rng.uniform(0.0, fp.max_initial_perennial_share, n)
    zeros = np.zeros(n)
    index = np.int32  # cells, districts, clans and queue places: half the bytes for kernels to read
    h = Households(
        cell=cell.astype(index),
        remote_cell=remote.astype(index),
        district=L.district[cell].astype(index),
        clan=np.zeros(n, dtype=index),
        kind=kind,
        farm_ha=farm,
        coca_young=np.zeros((2, n)),
        coca_mature=np.zeros((2, n)),
        food_young=zeros.copy(),
        food_mature=legal * (1 - perennial_share),
        cacao_young=zeros.copy(),
        cacao_mature=legal * perennial_share * 0.5,
        coffee_young=zeros.copy(),
        coffee_mature=legal * perennial_share * 0.5,
        fallow=farm - legal,
        savings=zeros.copy(),
        trust=np.clip(rng.normal(fp.initial_trust, fp.initial_trust_sd, n), 0, 1),
        stage=np.zeros(n, dtype=np.int8),
        months_in_stage=zeros.copy(),
        in_programme=np.zeros(n, dtype=bool),
        agreement=np.zeros(n, dtype=bool),
        value_at_signing=zeros.copy(),
        months_unsupported=zeros.copy(),
        processes_paste=rng.random(n) < fp.share_process_paste,
        child_courier=rng.random(n) < fp.share_child_courier,
        worry=zeros.copy(),
        soil_bonus=zeros.copy(),
        soil_home=L.layer("fertility")[cell].copy(),
        soil_remote=L.layer("fertility")[remote].copy(),
        expected_leaf_value=zeros.copy(),
        risk=zeros.copy(),
        income=zeros.copy(),
        coca_income=zeros.copy(),
        legal_income=zeros.copy(),
        eradicated=zeros.copy(),
        replanted=zeros.copy(),
        programme_order=rng.permutation(n).astype(index),
        zone=altitude_zone(
            L.layer("elevation_m")[cell], p.programme.cacao_below_m, p.crops.coffee_max_m
        ).astype(np.int8),
        coca_ha_at_signing=zeros.copy(),
        coca_idle=zeros.copy(),
    )
    return h


@kernel
def map_coca(
    cell,
    remote_cell,
    district,
    coca_young,
    coca_mature,
    trust,
    households_per_district,
    coca_layer,
    ever_coca,
    district_coca_ha,
    district_coca_share,
    district_mean_trust,
):
    """The coca map and the district summaries (a kernel; ``VraemModel._update_coca_layers``).

    Writes each cell's coca (home plots of the cell's households plus the remote fields opened
    in it), marks cells that ever had coca, and each district's coca area, share of households
    growing coca and mean trust. Returns the coca that appeared in cells that never had any, ha.
    """
    n_cells, n_districts = coca_layer.size, district_coca_ha.size
    cell, remote_cell, district = unsigned(cell), unsigned(remote_cell), unsigned(district)
    home_cells = np.zeros(n_cells)
    remote_cells = np.zeros(n_cells)
    coca_ha = np.zeros(n_districts)
    growers = np.zeros(n_districts)
    trust_sum = np.zeros(n_districts)
    coca = np.empty(cell.size)
    for i in range(cell.size):  # the cells' sums (two loops: fewer registers live in each)
        home = coca_young[HOME, i] + coca_mature[HOME, i]
        remote = coca_young[REMOTE, i] + coca_mature[REMOTE, i]
        home_cells[cell[i]] += home
        remote_cells[remote_cell[i]] += remote
        coca[i] = home + remote
    for i in range(cell.size):  # the districts' sums
        d = district[i]
        coca_ha[d] += coca[i]
        growers[d] += 1.0 if coca[i] > 0 else 0.0
        trust_sum[d] += trust[i]
    new_virgin_ha = 0.0
    for c in range(n_cells):
        now = home_cells[c] + remote_cells[c]
        if ever_coca[c] == 0:
            new_virgin_ha += maximum(now - coca_layer[c], 0.0)
        coca_layer[c] = now
        if now > 1e-9:
            ever_coca[c] = 1.0
    for d in range(n_districts):
        district_coca_ha[d] = coca_ha[d]
        district_coca_share[d] = growers[d] / households_per_district[d]
        district_mean_trust[d] = trust_sum[d] / households_per_district[d]
    return new_virgin_ha
