"""Farmer households (campesinos / cocaleros): docs/odd.md.

A household's state lives in the columns of :class:`Households` (one NumPy array per
attribute), and the monthly phases of all households run as compiled loops over those columns
(:mod:`vraem.jit` kernels: the ``_``-prefixed functions below each phase): a per-household Python
loop would cost about 0.6 us per agent per step before doing anything, too slow for 20,000
households over 240 months. Each household can also be addressed as a Mesa agent
(:class:`Farmer`) on its home cell, a view of its row; these agents are built on first use
(:func:`household_agents`, ``VraemModel.farmers``), for the UI and tests, so that a sweep's runs
do not pay for objects nothing reads.

The behaviour rules (``@rule``) are module-level functions that work on scalars and arrays alike:
a kernel calls them household by household, and the same rule serves one household or all of them
as NumPy arrays from Python (tests, set-up, the UI). A phase function unpacks the columns and
parameters and calls its kernel; the kernels compose rules and never restate their equations.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np
from mesa.discrete_space import CellAgent

from vraem.economy import coca_net_usd_per_ha_year, legal_net_usd_per_ha_year, rationed_share
from vraem.jit import clip, kernel, maximum, minimum, rule, where
from vraem.landscape import UNFARMED_FERTILITY, fertility_change

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


# ---------------------------------------------------------------------------------------------
# Rules


def moral_cost_by_type(responsive_cost):
    """Moral cost of a hectare of coca by household type, USD/ha/yr (index with the type).

    Never-types never grow (infinite cost), committed growers feel none, the responsive third a
    moderate one (Colombian field experiment; the size is an assumption).
    """
    costs = np.zeros(len(HouseholdType))
    costs[HouseholdType.NEVER] = np.inf
    costs[HouseholdType.RESPONSIVE] = responsive_cost
    return costs


@rule
def sigmoid(x):
    """Logistic function, for scalars or arrays."""
    return 1.0 / (1.0 + np.exp(-x))


@rule
def target_coca_ha(coca_net, legal_net, premium, sensitivity, neighbour_share, norm_weight, max_ha):
    """Coca a household would like to tend, ha (0 to ``max_ha``, what family labour allows).

    A logit in the income gap between coca and the best legal crop beyond the premium that an
    illegal crop must pay (USD/ha/yr, in thousands), shifted by the share of neighbours growing
    coca (the social norm). docs/odd.md.
    """
    return coca_wanted_ha(
        allocation_logit(coca_net, legal_net, premium, sensitivity, neighbour_share, norm_weight), max_ha
    )


@rule
def allocation_logit(coca_net, legal_net, premium, sensitivity, neighbour_share, norm_weight):
    """The log-odds of :func:`target_coca_ha`: income gap beyond the premium (thousands USD) and norm."""
    gap = (coca_net - legal_net - premium) / 1_000.0
    return sensitivity * gap + norm_weight * (neighbour_share - 0.5)


@rule
def coca_wanted_ha(logit, max_ha):
    """Coca wanted at a given log-odds of :func:`target_coca_ha`, ha (0 to ``max_ha``)."""
    return max_ha * sigmoid(logit)


@rule
def land_change_ha(target_ha, current_ha, max_expand, max_abandon):
    """Coca planted (+) or abandoned (-) this month, limited by family labour (ha)."""
    return clip(target_ha - current_ha, -max_abandon, max_expand)


@rule
def replant_probability(p_replant, agreement, no_alternative, p_agreement, no_alternative_bonus):
    """Chance that a household replants an eradicated field.

    The scenario's rate (seed interview: about 50%), lowered to the voluntary-agreement rate for
    households that signed one (UNODC 2019: 0.6% after a year; Monzón: peers press replanters),
    raised for households with no legal income (docs/odd.md).
    """
    p = where(agreement, p_agreement, p_replant)
    return clip(p + where(agreement, 0.0, where(no_alternative, no_alternative_bonus, 0.0)), 0.0, 1.0)


@rule
def annual_risk(monthly_share):
    """Perceived yearly chance that a field is eradicated, from the share destroyed last month."""
    return 1.0 - (1.0 - clip(monthly_share, 0.0, 1.0)) ** 12


@rule
def update_expectation(expected, observed, rate):
    """Adaptive expectation: move a fraction ``rate`` of the way to what was observed."""
    return expected + rate * (observed - expected)


@rule
def mature(young, mature_ha, maturity_months):
    """Move young plantings into production; returns (young, mature).

    A constant monthly hazard of 1/maturity gives the mean delay from docs/odd.md
    (coca 12-18 months, banana 9-12, cacao and coffee 24-36).
    """
    moved = young / maturity_months
    return young - moved, mature_ha + moved


@rule
def trust_after_eradication(trust, eradicated_share, in_programme, loss):
    """Trust in the state after part of a household's coca was destroyed.

    Forced eradication outside a programme costs trust (seed interview: confidence in the state
    must be built first); inside a programme the household expected it.
    """
    return clip(trust - where(in_programme, 0.0, loss * eradicated_share), 0.0, 1.0)


@rule
def left_standing_ha(reduce_ha, mature_ha, idle_ha, standing, agreement):
    """Coca a household stops harvesting instead of uprooting, ha (``mechanisms.standing_coca``).

    A household that wants less coca leaves its tended mature coca standing unharvested, up to all
    of it; only the rest of the cut (young coca) is pulled out. Surveys count standing coca,
    harvested or not (UNODC/DEVIDA survey method); when prices crash farmers stop harvesting
    rather than uproot (issue 16). A household under a no-coca agreement uproots (its agreement is
    verified on its fields). Off, everything cut is pulled out (0 ha left standing).
    """
    return where(agreement, 0.0, where(standing, minimum(reduce_ha, maximum(mature_ha - idle_ha, 0.0)), 0.0))


@rule
def uprooted_standing_ha(idle_ha, u, standing_months):
    """Standing unharvested coca uprooted this month, ha: all of it with chance 1/``standing_months``.

    A constant monthly hazard gives the mean time coca stands unharvested (``valley.standing_months``,
    an assumption); the land then goes to a legal crop or fallow like any coca pulled out.
    """
    return where(u < 1.0 / standing_months, idle_ha, 0.0)


@rule
def harvested_share(idle_ha, mature_ha, labour):
    """Share of a household's mature coca harvested this month (0-1).

    All but the coca left standing unharvested (:func:`left_standing_ha`), times the valley's hired
    labour relative to normal (``VraemModel.labour_supply``: 1 but after the lockdown exodus).
    """
    return labour * (1.0 - minimum(idle_ha, mature_ha) / maximum(mature_ha, 1e-12))


@rule
def input_yield_factor(factor, gain_per_year, max_factor, price_ratio):
    """Coca yields relative to 2013 after a month of inputs (fertiliser, denser planting), 1.

    Yields rise by ``gain_per_year`` a year while the leaf pays at least its 2013 price, in
    proportion below it (inputs are bought from coca's income), up to ``max_factor``; they do not
    fall back (the planting and the know-how stay). Soil exhaustion still acts per plot
    (:func:`relative_fertility`): the two multiply. DEVIDA: about 3.6 t/ha in 2020 while the
    model's soils alone cut yields 12% by 2023 (issue 16).
    """
    return minimum(factor + gain_per_year / 12.0 * clip(price_ratio, 0.0, 1.0), max_factor)


# ---------------------------------------------------------------------------------------------
# State


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


# ---------------------------------------------------------------------------------------------
# Set-up


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


@rule
def altitude_zone(elevation_m, cacao_below_m, coffee_below_m):
    """A farm's :class:`Zone` from its altitude: cacao in the low valley, coffee above, then food only.

    Cacao below ``cacao_below_m`` and coffee up to ``coffee_below_m`` (assumptions with ranges,
    docs/odd.md section 8); the zones' shares of households follow the generated valley's farmland.
    """
    return where(
        elevation_m < cacao_below_m, Zone.LOW, where(elevation_m < coffee_below_m, Zone.MID, Zone.HIGH)
    )


@rule
def zone_crops(zone, cacao_usd, coffee_usd, food_usd):
    """Which legal crop a hectare goes to in an altitude :class:`Zone`: (cacao, coffee, food), each 0 or 1.

    The zone's perennial (cacao low, coffee in the middle) where it pays at least as much as food
    crops per hectare, else food; the high zone grows food only.
    """
    cacao = where((zone == Zone.LOW) & (cacao_usd >= food_usd), 1.0, 0.0)
    coffee = where((zone == Zone.MID) & (coffee_usd >= food_usd), 1.0, 0.0)
    return cacao, coffee, 1.0 - cacao - coffee


@rule
def savings_after_month(savings, income, poverty_line, saving_share):
    """A household's savings after a month, USD.

    It puts aside ``saving_share`` of its income above the poverty line, and draws on its savings
    to stay at the line when its income falls below it, until they are spent (assumption).
    """
    surplus = income - poverty_line
    return maximum(savings + where(surplus > 0.0, saving_share * surplus, surplus), 0.0)


@rule
def in_hardship(income, savings, poverty_line):
    """Whether a household is poor with nothing left to fall back on: income below the line, savings spent."""
    return (income < poverty_line) & (savings <= 0.0)


def seed_savings(model) -> None:
    """Each household's opening savings, USD (stream ``wealth``).

    ``farmer.savings_months_mean`` months of its opening net income (not below the poverty line's
    worth), times a lognormal factor of mean 1 and spread ``farmer.savings_sigma``: households with
    more coca and land start richer, and savings vary more than incomes.
    """
    fp, h = model.params.farmer, model.households
    factor = model.streams.wealth.lognormal(-(fp.savings_sigma**2) / 2, fp.savings_sigma, h.n)
    h.savings[:] = fp.savings_months_mean * np.maximum(h.income, fp.poverty_line_usd_per_month) * factor


def update_savings(model) -> None:
    """Savings after the month's income (rule :func:`savings_after_month`)."""
    fp, h = model.params.farmer, model.households
    _update_savings(h.savings, h.income, fp.poverty_line_usd_per_month, fp.saving_share)


@kernel
def _update_savings(savings, income, poverty_line, saving_share):
    """:func:`update_savings`, household by household, in place (a loop the compiler vectorizes)."""
    for i in range(savings.size):
        savings[i] = savings_after_month(savings[i], income[i], poverty_line, saving_share)


def seed_initial_coca(model) -> None:
    """Give each household its desired coca under opening prices, summing to the observed area.

    The rescaling factor ``k`` (observed over desired) also scales every household's labour
    capacity for coca (``farmer.max_coca_ha``) for the rest of the run, so that the opening state
    is an equilibrium in every run: desired coca in month 1 equals the coca households hold. The
    calibration sets ``max_coca_ha`` so that ``k`` is 1 on average at full scale; without the
    per-run factor a small valley (whose districts' neighbour shares vary more) started about 1%
    above its desired coca and shed it at once, a scale artefact.
    """
    h, p = model.households, model.params
    n_d = p.landscape.n_districts
    model.initial_coca_rescale = 1.0
    growers = np.bincount(h.district, weights=h.kind != HouseholdType.NEVER, minlength=n_d)
    share = growers / np.maximum(np.bincount(h.district, minlength=n_d), 1)
    desired = desired_coca_ha(model, share[h.district])
    total = p.farmer.initial_coca_ha * p.scale
    k = total / max(desired.sum(), 1e-9)
    model.initial_coca_rescale = k
    coca = desired * k
    # A year of new planting is still young (coca takes 12-18 months to produce).
    young_share = 1.0 / p.farmer.coca_maturity_months
    h.coca_mature[HOME] = coca * (1 - young_share)
    h.coca_young[HOME] = coca * young_share
    h.fallow -= coca
    h.farm_ha += np.maximum(-h.fallow, 0.0)  # the few small farms short of land clear a little more
    h.fallow[:] = np.maximum(h.fallow, 0.0)


@rule
def leaf_value(processes_paste, own_paste_leaf_usd, leaf_usd):
    """What a kilogram of leaf is worth to a household, USD: made into paste at home, or sold."""
    return where(processes_paste, own_paste_leaf_usd, leaf_usd)


def leaf_value_usd_per_kg(model) -> np.ndarray:
    """What a kilogram of leaf is worth to each household this month (rule :func:`leaf_value`)."""
    return leaf_value(
        model.households.processes_paste, model.prices.own_paste_leaf_usd, model.prices.leaf_usd
    )


@rule
def moral_cost(type_cost, worry, child_worry_usd):
    """A household's moral cost of a hectare of coca, USD/ha/yr.

    Its type's cost (:func:`moral_cost_by_type`) plus the worry of a family whose child carries
    paste, at ``child_worry_usd`` per unit of worry (docs/odd.md).
    """
    return type_cost + worry * child_worry_usd


@rule
def programme_yield_factor(stage, yield_bonus):
    """Legal yields relative to a farmer's own: the programme's support raises them at ``PERENNIAL``."""
    return where(stage >= ProgrammeStage.PERENNIAL, 1.0 + yield_bonus, 1.0)


@rule
def desired_coca(
    expected_leaf_usd,
    leaf_kg_per_ha_year,
    fertility,
    coca_cost_share,
    risk,
    risk_weight,
    moral,
    best_legal_usd,
    access,
    legal_cost_share,
    premium,
    sensitivity,
    neighbour_share,
    norm_weight,
    max_ha,
    kind,
    agreement,
):
    """Coca a household would like to hold, ha: :func:`target_coca_ha` of its coca and legal incomes.

    The expected net incomes of a hectare of coca and of the best legal crop are the economy's
    rules (:func:`vraem.economy.coca_net_usd_per_ha_year`, ``legal_net_usd_per_ha_year``);
    households that do not :func:`grows_coca` want none (docs/odd.md, section 7.3).
    """
    logit = desired_coca_logit(
        expected_leaf_usd,
        leaf_kg_per_ha_year,
        fertility,
        coca_cost_share,
        risk,
        risk_weight,
        moral,
        best_legal_usd,
        access,
        legal_cost_share,
        premium,
        sensitivity,
        neighbour_share,
        norm_weight,
    )
    return where(grows_coca(kind, agreement), coca_wanted_ha(logit, max_ha), 0.0)


@rule
def desired_coca_logit(
    expected_leaf_usd,
    leaf_kg_per_ha_year,
    fertility,
    coca_cost_share,
    risk,
    risk_weight,
    moral,
    best_legal_usd,
    access,
    legal_cost_share,
    premium,
    sensitivity,
    neighbour_share,
    norm_weight,
):
    """The :func:`allocation_logit` of :func:`desired_coca`, from a household's expected incomes.

    Kept apart from the logistic step (:func:`coca_wanted_ha`), which the land decision's kernel
    takes in a loop of its own.
    """
    coca_net = coca_net_usd_per_ha_year(
        expected_leaf_usd, leaf_kg_per_ha_year, fertility, coca_cost_share, risk, risk_weight, moral
    )
    legal_net = legal_net_usd_per_ha_year(best_legal_usd, fertility, access, legal_cost_share)
    return allocation_logit(coca_net, legal_net, premium, sensitivity, neighbour_share, norm_weight)


@rule
def grows_coca(kind, agreement):
    """Whether a household would grow coca at all: not never-types, nor under an agreement."""
    return where(agreement, False, kind != HouseholdType.NEVER)


def desired_coca_ha(model, neighbour_share: np.ndarray) -> np.ndarray:
    """Coca each household would like to hold, ha (rule :func:`desired_coca`), from Python.

    The monthly land decision evaluates the same rule per household in its kernel; this form
    serves the set-up (:func:`seed_initial_coca`) and users.
    """
    p, h, L = model.params, model.households, model.landscape
    fp, cp = p.farmer, p.crops
    with np.errstate(invalid="ignore"):
        return desired_coca(
            h.expected_leaf_value,
            cp.coca_leaf_kg_per_ha_year * model.coca_yield_factor,
            home_fertility(model),
            fp.coca_cost_share,
            h.risk,
            fp.risk_weight,
            moral_cost(
                moral_cost_by_type(fp.moral_cost_usd_per_ha_year)[h.kind],
                h.worry,
                fp.child_worry_usd_per_ha_year,
            ),
            best_legal_revenue(model),
            L.layer("market_access")[h.cell],
            fp.legal_cost_share,
            fp.illegality_premium_usd_per_ha_year,
            fp.allocation_sensitivity,
            neighbour_share,
            fp.norm_weight,
            fp.max_coca_ha * model.initial_coca_rescale,
            h.kind,
            h.agreement,
        )


def price_index(path, month: int) -> float:
    """A yearly price index in force in ``month`` (year 1 = months 0-11; the last year holds)."""
    if not path:
        return 1.0
    return float(path[min(month // 12, len(path) - 1)])


@rule
def reverting_index(last, long_run, rate_per_year, years_after):
    """A world price index ``years_after`` years after its observed series ends, 2013 = 1.

    The gap between the last observed year and the long-run level closes at ``rate_per_year``
    (exponentially): the 2024 cacao spike fades rather than holding for ever
    (``crops.world_price_reversion_per_year``, ``crops.cacao_long_run_index``; docs/odd.md 7.4).
    """
    return long_run + (last - long_run) * np.exp(-rate_per_year * years_after)


def world_price_index(path, month: int, long_run: float, rate_per_year: float) -> float:
    """A world price index in force in ``month`` (2013 = 1).

    The observed yearly ``path``, then :func:`reverting_index` year by year after it.
    """
    if not path:
        return 1.0
    year, last = month // 12, len(path) - 1
    if year <= last:
        return float(path[year])
    return float(reverting_index(path[last], long_run, rate_per_year, year - last))


def world_price_indices(model) -> tuple[float, float]:
    """The world price indices of cacao and coffee in force this month (2013 = 1)."""
    cp, month = model.params.crops, model.month
    rate = cp.world_price_reversion_per_year
    return (
        world_price_index(cp.cacao_price_index_by_year, month, cp.cacao_long_run_index, rate),
        world_price_index(cp.coffee_price_index_by_year, month, cp.coffee_long_run_index, rate),
    )


def farm_gate_indices(model) -> tuple[float, float]:
    """Farm-gate prices of cacao and coffee relative to their 2013 level at the world price.

    The world index times the local glut factor (:func:`vraem.economy.local_price_factor`).
    """
    cacao, coffee = world_price_indices(model)
    return cacao * model.prices.cacao_local, coffee * model.prices.coffee_local


def crop_revenues(model) -> tuple[float, float, float]:
    """Revenue per ha per year of cacao, coffee and food this month, USD, at the farm gate.

    Cacao: yield x ICCO world price x pass-through (``crops.cacao_pass_through``); coffee: the 2013
    farm-gate revenue per ha (already net of the traders' share); both follow their world price
    (observed, then reverting to a long-run level), lowered by a local glut
    (``mechanisms.local_market``) and by a running epidemic (``mechanisms.crop_disease``,
    :func:`outbreak_revenue_factor`). docs/odd.md, section 7.4.
    """
    cp = model.params.crops
    cacao_index, coffee_index = farm_gate_indices(model)
    sick = model.outbreak_months_left > 0
    cacao = (
        cp.cacao_kg_per_ha_year
        * cp.cacao_world_usd_per_kg
        * cp.cacao_pass_through
        * cacao_index
        * outbreak_revenue_factor(sick[0], cp.outbreak_harvest_loss)
    )
    coffee_loss = outbreak_revenue_factor(sick[1], cp.outbreak_harvest_loss)
    coffee = cp.coffee_usd_per_ha_year * coffee_index * coffee_loss
    return float(cacao), float(coffee), cp.food_usd_per_ha_year


@rule
def perennial_usd(elevation_m, cacao_below_m, coffee_max_m, cacao_usd, coffee_usd):
    """Revenue per ha per year of the perennial a cell's altitude allows, USD (0: none).

    Cacao below ``programme.cacao_below_m``, coffee up to ``crops.coffee_max_m``, neither above
    (only food crops): not every household can grow cacao or coffee (docs/odd.md, section 7.4).
    """
    return where(elevation_m < cacao_below_m, cacao_usd, where(elevation_m < coffee_max_m, coffee_usd, 0.0))


@rule
def best_legal_usd(perennial_usd_per_ha, food_usd, yield_factor):
    """Revenue per ha per year of a household's best legal crop, USD.

    Food or the perennial its altitude allows (with the programme's yield factor).
    """
    return maximum(food_usd, yield_factor * perennial_usd_per_ha)


def best_legal_revenue(model) -> np.ndarray:
    """Revenue of each household's best legal crop, USD/ha/yr (rule :func:`best_legal_usd`).

    At this month's farm-gate prices, among the crops its cell's altitude allows, with programme
    support.
    """
    p, h, L = model.params, model.households, model.landscape
    cacao, coffee, food = crop_revenues(model)
    perennial = perennial_usd(
        L.layer("elevation_m")[h.cell], p.programme.cacao_below_m, p.crops.coffee_max_m, cacao, coffee
    )
    return best_legal_usd(perennial, food, programme_yield_factor(h.stage, p.crops.programme_yield_bonus))


@rule
def outbreak_revenue_factor(running, harvest_loss):
    """Share of a crop's harvest left while an epidemic runs (moniliasis, coffee rust), 0-1."""
    return where(running, 1.0 - harvest_loss, 1.0)


@rule
def outbreak_starts(u, per_year, running):
    """Whether an epidemic of a crop starts this month.

    A monthly hazard of ``per_year`` / 12 when none is running (uniform draw ``u`` from the
    ``disease`` stream).
    """
    return where(running, False, u < per_year / 12.0)


def spread_disease(model) -> None:
    """Epidemics of the legal crops this month (``mechanisms.crop_disease``).

    Each month draws one uniform per crop (cacao, coffee) from the ``disease`` stream, so the
    draws do not depend on the valley's size; an epidemic starts by :func:`outbreak_starts`, runs
    ``crops.outbreak_months`` months (its harvest loss enters :func:`crop_revenues`), and at its
    start kills ``crops.outbreak_plants_lost`` of the crop's mature plants, whose land goes to
    fallow. docs/odd.md, section 7.4.
    """
    cp, h = model.params.crops, model.households
    u = model.streams.disease.random(2)
    left = model.outbreak_months_left
    left[:] = np.maximum(left - 1, 0)
    if not model.params.mechanisms.crop_disease:
        return
    starts = outbreak_starts(u, np.array([cp.cacao_outbreak_per_year, cp.coffee_outbreak_per_year]), left > 0)
    for k, mature_ha in enumerate((h.cacao_mature, h.coffee_mature)):
        if starts[k]:
            left[k] = cp.outbreak_months
            lost = mature_ha * cp.outbreak_plants_lost
            mature_ha -= lost
            h.fallow += lost
            model.month_flows["legal_lost_to_disease_ha"] += float(lost.sum())


def perennials_by_altitude(model) -> None:
    """Move each household's initial cacao and coffee to the perennial its altitude allows.

    The opening farms hold both (``create_households``); cacao grows only below
    ``programme.cacao_below_m`` and coffee only up to ``crops.coffee_max_m``; above it the
    perennial land holds food crops (rule :func:`perennial_usd`).
    """
    p, h, L = model.params, model.households, model.landscape
    elevation = L.layer("elevation_m")[h.cell]
    low = elevation < p.programme.cacao_below_m
    mid = ~low & (elevation < p.crops.coffee_max_m)
    for stock in ("young", "mature"):
        cacao, coffee = getattr(h, f"cacao_{stock}"), getattr(h, f"coffee_{stock}")
        food = getattr(h, f"food_{stock}")
        total = cacao + coffee
        cacao[:] = np.where(low, total, 0.0)
        coffee[:] = np.where(mid, total, 0.0)
        food += np.where(low | mid, 0.0, total)


@rule
def own_legal_planting(fallow_ha, rate_ha, price_index_now, titled, title_boost, pays):
    """Perennials a household plants on its own fallow this month, ha.

    Families extend cacao or coffee when its price rises above its 2013 level (in proportion to
    the rise, up to the labour rate at a doubling), and titled families also at 2013 prices, with
    credit (seed interview: a title lets farmers borrow money). Only where the crop pays.
    """
    drive = clip(price_index_now - 1.0, 0.0, 1.0) + where(titled, title_boost, 0.0)
    return where(pays, minimum(fallow_ha, rate_ha * drive), 0.0)


@rule
def plant_legal_crops(
    pulled_ha,
    fallow_ha,
    low,
    fertility,
    access,
    stage,
    cacao_usd,
    coffee_usd,
    food_usd,
    cacao_index,
    coffee_index,
    legal_cost_share,
    min_net_usd,
    expand_ha,
    title_boost,
    perennial_ok=True,
):
    """Farmers choose legal crops themselves: land pulled out of coca and some fallow.

    A household's perennial is cacao in the low valley (``low``), coffee above up to the coffee
    belt's top, and none higher (``perennial_ok`` false: rule :func:`perennial_usd`); land pulled out
    of coca goes to whichever of that perennial and food crops pays more per hectare net (at this
    month's farm-gate prices, revenues per ha per year and price indices as given), or stays fallow
    when neither reaches ``min_net_usd`` (``crops.legal_min_net_usd_per_ha_year``); fallow is
    planted by :func:`own_legal_planting`. docs/odd.md, section 7.4.

    Returns:
        The household's fallow after planting, and the young cacao, coffee and food planted, the
        pulled-out coca land that went to a legal crop and the fallow planted (all ha).
    """
    perennial_net = legal_net_usd_per_ha_year(
        where(low, cacao_usd, where(perennial_ok, coffee_usd, 0.0)), fertility, access, legal_cost_share
    )
    food_net = legal_net_usd_per_ha_year(food_usd, fertility, access, legal_cost_share)
    perennial_better = perennial_ok & (perennial_net >= food_net)
    pays = maximum(perennial_net, food_net) >= min_net_usd
    to_legal = where(pays, pulled_ha, 0.0)
    fallow = fallow_ha + (pulled_ha - to_legal)
    own = own_legal_planting(
        fallow,
        expand_ha,
        where(low, cacao_index, coffee_index),
        stage >= ProgrammeStage.TITLE,
        title_boost,
        perennial_ok & (perennial_net >= min_net_usd),
    )
    perennial = where(perennial_better, to_legal, 0.0) + own
    return (
        fallow - own,
        where(low, perennial, 0.0),
        where(low, 0.0, perennial),
        where(perennial_better, 0.0, to_legal),
        to_legal,
        own,
    )


# ---------------------------------------------------------------------------------------------
# Monthly phase


def allocate_land(model) -> None:
    """Farmers' monthly land decision: plant or pull out coca toward their desired area.

    New coca comes from fallow first, then from forest cleared at the home cell, then in the
    remote field once the home cell's forest is gone. Land changes slowly (labour-limited).
    Land pulled out of coca goes to a legal crop that pays, or to fallow (:func:`plant_legal_crops`).
    The month's arithmetic runs in one compiled kernel (:func:`_allocate_land`).
    """
    p, h, L = model.params, model.households, model.landscape
    fp, cp, pp = p.farmer, p.crops, p.programme
    # The labour noise, uniform on 1 +- labour_noise: the kernel scales the stream's uniform draws
    # as ``Generator.uniform`` does (low + (high - low) x u, the same numbers), a third cheaper.
    low, high = 1.0 - fp.labour_noise, 1.0 + fp.labour_noise
    u = model.streams.allocation.random(h.n)
    standing = bool(p.mechanisms.standing_coca)
    u_stand = model.streams.harvest_choice.random(h.n) if standing else np.ones(h.n)
    cacao_usd, coffee_usd, food_usd = crop_revenues(model)
    cacao_index, coffee_index = farm_gate_indices(model)
    cleared_ha, legal_ha = _allocate_land(
        h.cell,
        h.remote_cell,
        h.district,
        h.kind,
        h.agreement,
        h.processes_paste,
        h.stage,
        h.worry,
        h.soil_home,
        h.soil_bonus,
        h.expected_leaf_value,
        h.risk,
        h.farm_ha,
        h.fallow,
        h.coca_young,
        h.coca_mature,
        h.food_young,
        h.cacao_young,
        h.coffee_young,
        u,
        low,
        high - low,
        L.layer("forest_ha"),
        L.layer("market_access"),
        L.layer("elevation_m"),
        annual_risk(model.district_eradicated_share),
        model.district_coca_share,
        moral_cost_by_type(fp.moral_cost_usd_per_ha_year),
        model.prices.own_paste_leaf_usd,
        model.prices.leaf_usd,
        fp.expectation_rate,
        fp.risk_memory_rate,
        fp.child_worry_usd_per_ha_year,
        p.landscape.initial_fertility_farmed,
        cp.coca_leaf_kg_per_ha_year * model.coca_yield_factor,
        fp.coca_cost_share,
        fp.risk_weight,
        fp.legal_cost_share,
        cp.programme_yield_bonus,
        fp.illegality_premium_usd_per_ha_year,
        fp.allocation_sensitivity,
        fp.norm_weight,
        fp.max_coca_ha * model.initial_coca_rescale,
        fp.max_expand_ha_per_month,
        fp.max_abandon_ha_per_month,
        cacao_usd,
        coffee_usd,
        food_usd,
        cacao_index,
        coffee_index,
        pp.cacao_below_m,
        cp.coffee_max_m,
        cp.legal_min_net_usd_per_ha_year,
        cp.legal_expand_ha_per_month,
        pp.title_credit_boost,
        h.coca_idle,
        u_stand,
        standing,
        p.valley.standing_months,
        model.labour_supply,
    )
    model.month_flows["forest_cleared_ha"] += cleared_ha
    model.month_flows["legal_planted_own_ha"] += legal_ha


@kernel
def _allocate_land(
    cell,
    remote_cell,
    district,
    kind,
    agreement,
    processes_paste,
    stage,
    worry,
    soil_home,
    soil_bonus,
    expected_leaf_value,
    risk,
    farm_ha,
    fallow,
    coca_young,
    coca_mature,
    food_young,
    cacao_young,
    coffee_young,
    u,
    noise_low,
    noise_range,
    forest,
    market_access,
    elevation,
    district_risk,
    district_coca_share,
    type_moral_cost,
    own_paste_leaf_usd,
    leaf_usd,
    expectation_rate,
    risk_memory_rate,
    child_worry_usd,
    initial_fertility,
    leaf_kg_per_ha_year,
    coca_cost_share,
    risk_weight,
    legal_cost_share,
    yield_bonus,
    premium,
    sensitivity,
    norm_weight,
    max_coca_ha,
    max_expand_ha,
    max_abandon_ha,
    cacao_usd,
    coffee_usd,
    food_usd,
    cacao_index,
    coffee_index,
    cacao_below_m,
    coffee_max_m,
    legal_min_net_usd,
    legal_expand_ha,
    title_boost,
    coca_idle,
    u_stand,
    standing,
    standing_months,
    labour,
):
    """The land decision of :func:`allocate_land`; returns (forest cleared, legal planted own), ha.

    A step whose arithmetic is all divisions and selects runs for every household in a loop the
    compiler vectorizes (the households' cells gathered into columns first: this CPU's gathers keep
    a loop scalar), with no sums or scatters in it. A step with a call (``np.exp``) or with
    per-cell sums runs only on the households it concerns, listed in household order without
    branching (a household's index is written and the list grows by one if it belongs): the coca
    wanted by households that grow it, coca pulled out by those that reduce, forest asked and
    cleared by those that expand beyond their fallow. A household that wants no coca and holds
    none, or has neither pulled-out land nor fallow, gets 0 ha in the vectorized steps, which
    leaves its columns as they were. Forest is rationed per cell, so clearing waits until every
    household has asked: at home, then in the remote field. Per-cell sums and the month's totals
    accumulate in household order, as ``np.bincount`` would; zero amounts are skipped where adding
    0 ha changes nothing.
    """
    n, n_cells = cell.size, forest.size
    growers = np.empty(n, dtype=np.int64)
    n_growers = 0
    for i in range(n):  # vectorizes: no gather, no list
        expected_leaf_value[i] = update_expectation(
            expected_leaf_value[i],
            leaf_value(processes_paste[i], own_paste_leaf_usd, leaf_usd),
            expectation_rate,
        )
    for i in range(n):
        risk[i] = update_expectation(risk[i], district_risk[district[i]], risk_memory_rate)
        growers[n_growers] = i
        n_growers += grows_coca(kind[i], agreement[i])

    # The growers' log-odds, then the logistic step: in two loops, a fifth cheaper than one.
    logit = np.empty(n_growers)
    for k in range(n_growers):
        i = growers[k]
        logit[k] = desired_coca_logit(
            expected_leaf_value[i],
            leaf_kg_per_ha_year,
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            coca_cost_share,
            risk[i],
            risk_weight,
            moral_cost(type_moral_cost[kind[i]], worry[i], child_worry_usd),
            best_legal_usd(
                perennial_usd(elevation[cell[i]], cacao_below_m, coffee_max_m, cacao_usd, coffee_usd),
                food_usd,
                programme_yield_factor(stage[i], yield_bonus),
            ),
            market_access[cell[i]],
            legal_cost_share,
            premium,
            sensitivity,
            district_coca_share[district[i]],
            norm_weight,
        )
    desired = np.zeros(n)  # households that grow no coca want none (the rule's answer)
    for k in range(n_growers):
        desired[growers[k]] = coca_wanted_ha(logit[k], max_coca_ha)

    clearing = np.empty(n, dtype=np.int64)
    n_clearing = 0
    pulling = growers  # the growers' list is no longer needed
    n_pulling = 0
    change = np.empty(n)
    from_fallow = np.empty(n)
    to_clear = np.empty(n)
    asked = np.zeros(n_cells)
    pulled_ha = np.empty(n)
    expand_ha = max_expand_ha * labour  # hired labour limits planting (1 but after the lockdown)
    for i in range(n):
        # Standing unharvested coca: uprooted at its hazard (that land is pulled out), and taken
        # back into harvest first when the household wants more tended coca (all 0 ha when the
        # mechanism is off).
        mature_ha = coca_mature[HOME, i] + coca_mature[REMOTE, i]
        coca_idle[i] = minimum(coca_idle[i], mature_ha)
        dropped = uprooted_standing_ha(coca_idle[i], u_stand[i], standing_months)
        from_home = minimum(dropped, coca_mature[HOME, i])
        coca_mature[HOME, i] -= from_home
        coca_mature[REMOTE, i] = maximum(coca_mature[REMOTE, i] - (dropped - from_home), 0.0)
        coca_idle[i] -= dropped
        pulled_ha[i] = dropped
        coca = (coca_young[HOME, i] + coca_mature[HOME, i]) + (coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        noise = noise_low + noise_range * u[i]
        change[i] = land_change_ha(desired[i], coca - coca_idle[i], expand_ha * noise, max_abandon_ha)
        back = minimum(maximum(change[i], 0.0), coca_idle[i])
        coca_idle[i] -= back
        plant = maximum(change[i], 0.0) - back
        from_fallow[i] = minimum(plant, fallow[i])
        fallow[i] -= from_fallow[i]
        to_clear[i] = plant - from_fallow[i]
        # Coca planted on fallow; a household that also clears plants it with the cleared land.
        coca_young[HOME, i] += 0.0 if to_clear[i] != 0.0 else from_fallow[i]
    # The cells' forest asked, and who clears and who pulls out.
    for i in range(n):
        clears = to_clear[i] != 0.0
        if clears:
            asked[cell[i]] += to_clear[i]
        clearing[n_clearing] = i
        n_clearing += clears
        pulling[n_pulling] = i
        n_pulling += change[i] < 0.0

    # The clearing households' amounts, moved to the front in list order (in place: k <= i).
    for k in range(n_clearing):
        from_fallow[k] = from_fallow[clearing[k]]
        to_clear[k] = to_clear[clearing[k]]

    # Pulling out coca: mature fields first, home before remote. With standing coca, tended mature
    # coca is left standing unharvested instead (:func:`left_standing_ha`) and young coca goes first.
    for k in range(n_pulling):
        i = pulling[k]
        coca = (coca_young[HOME, i] + coca_mature[HOME, i]) + (coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        cut = minimum(-change[i], coca)
        mature_ha = coca_mature[HOME, i] + coca_mature[REMOTE, i]
        stand = left_standing_ha(cut, mature_ha, coca_idle[i], standing, agreement[i])
        coca_idle[i] += stand
        pull = cut - stand
        left = pull
        if standing and not agreement[i]:
            for plot in (HOME, REMOTE):
                take = minimum(left, coca_young[plot, i])
                coca_young[plot, i] -= take
                left -= take
        for plot in (HOME, REMOTE):
            take = minimum(left, coca_mature[plot, i])
            coca_mature[plot, i] -= take
            left -= take
            take = minimum(left, coca_young[plot, i])
            coca_young[plot, i] -= take
            left -= take
        pulled_ha[i] += pull - left

    # Legal crops go on pulled-out land and on fallow. The choice is made for every household in a
    # loop the compiler vectorizes (its inputs gathered from the cells first): a household with
    # neither plants nothing and its columns gain 0 ha. The month's totals are summed over the
    # households with either, in household order.
    planting = pulling
    n_planting = 0
    low = np.empty(n, dtype=np.bool_)
    perennial_ok = np.empty(n, dtype=np.bool_)
    access = np.empty(n)
    for i in range(n):
        low[i] = elevation[cell[i]] < cacao_below_m
        perennial_ok[i] = elevation[cell[i]] < coffee_max_m
        access[i] = market_access[cell[i]]
        planting[n_planting] = i
        n_planting += (pulled_ha[i] != 0.0) | (fallow[i] != 0.0)
    to_legal = np.empty(n)
    own = np.empty(n)
    for i in range(n):
        fallow[i], cacao, coffee, food, to_legal[i], own[i] = plant_legal_crops(
            pulled_ha[i],
            fallow[i],
            low[i],
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            access[i],
            stage[i],
            cacao_usd,
            coffee_usd,
            food_usd,
            cacao_index,
            coffee_index,
            legal_cost_share,
            legal_min_net_usd,
            legal_expand_ha,
            title_boost,
            perennial_ok[i],
        )
        cacao_young[i] += cacao
        coffee_young[i] += coffee
        food_young[i] += food
    own_total = 0.0
    to_legal_total = 0.0
    for k in range(n_planting):
        i = planting[k]
        to_legal_total += to_legal[i]
        own_total += own[i]

    # Forest available at home is shared among the households clearing there this month.
    home_clear = np.empty(n_clearing)
    remote_want = np.empty(n_clearing)
    asked_remote = np.zeros(n_cells)
    cleared_home = np.zeros(n_cells)
    for k in range(n_clearing):
        i = clearing[k]
        c = cell[i]
        home_clear[k] = to_clear[k] * rationed_share(forest[c], asked[c])
        remote_want[k] = to_clear[k] - home_clear[k]
        asked_remote[remote_cell[i]] += remote_want[k]
        cleared_home[c] += home_clear[k]

    cleared_remote = np.zeros(n_cells)
    for k in range(n_clearing):
        i = clearing[k]
        r = remote_cell[i]
        remote_clear = 0.0
        if remote_want[k] != 0.0:
            remote_clear = remote_want[k] * rationed_share(forest[r] - cleared_home[r], asked_remote[r])
            cleared_remote[r] += remote_clear
        farm_ha[i] += home_clear[k] + remote_clear
        coca_young[HOME, i] += from_fallow[k] + home_clear[k]
        coca_young[REMOTE, i] += remote_clear

    cleared_total = 0.0
    for c in range(n_cells):
        cleared = cleared_home[c] + cleared_remote[c]
        forest[c] = maximum(forest[c] - cleared, 0.0)
        cleared_total += cleared
    return cleared_total, to_legal_total + own_total


def respond_to_eradication(model, eradicated_home, eradicated_remote, p_replant: float) -> None:
    """Households whose coca was destroyed this month replant, or leave the land fallow.

    ``None`` for both amounts means no eradication this month (the stream still draws, so that
    replanting draws stay aligned across policies).

    Replanting follows :func:`replant_probability`; a share of it opens a new field in remote
    forest (the balloon effect), the rest replants in place. Trust and perceived risk respond.
    """
    p, h, L = model.params, model.households, model.landscape
    fp = p.farmer
    u = model.streams.replanting.random(h.n)
    if eradicated_home is None:
        h.eradicated[:] = 0.0
        h.replanted[:] = 0.0
        return
    cleared, eradicated, replanted, replanted_remote = _replant(
        u,
        eradicated_home,
        eradicated_remote,
        h.coca_young,
        h.coca_mature,
        h.food_mature,
        h.cacao_mature,
        h.coffee_mature,
        h.agreement,
        h.in_programme,
        h.remote_cell,
        L.layer("forest_ha"),
        h.farm_ha,
        h.fallow,
        h.eradicated,
        h.replanted,
        h.trust,
        p_replant,
        fp.no_alternative_legal_ha,
        fp.p_replant_agreement,
        fp.replant_no_alternative_bonus,
        fp.share_replant_remote,
        fp.trust_loss_eradicated,
    )
    model.month_flows["forest_cleared_ha"] += cleared
    model.month_flows["eradicated_ha"] += eradicated
    model.month_flows["replanted_ha"] += replanted
    model.month_flows["replanted_remote_ha"] += replanted_remote


@kernel
def _replant(
    u,
    eradicated_home,
    eradicated_remote,
    coca_young,
    coca_mature,
    food_mature,
    cacao_mature,
    coffee_mature,
    agreement,
    in_programme,
    remote_cell,
    forest_ha,
    farm_ha,
    fallow,
    eradicated,
    replanted,
    trust,
    p_replant,
    no_alternative_legal_ha,
    p_replant_agreement,
    replant_no_alternative_bonus,
    share_replant_remote,
    trust_loss_eradicated,
):
    """The replanting of :func:`respond_to_eradication`, household by household, in place.

    Returns the month's forest cleared for remote fields, coca eradicated, coca replanted, and
    coca replanted in remote fields (ha).
    """
    n = u.size
    # A household that lost nothing replants nothing and keeps its fields (its terms in the sums are
    # zeros): only its trust rule runs, in a first loop over all households that vectorizes. The
    # few households hit are listed in a second (a branch rarely taken), in household order.
    for j in range(n):
        eradicated[j] = eradicated_home[j] + eradicated_remote[j]
        replanted[j] = 0.0
        trust[j] = where(
            eradicated[j] != 0,
            trust[j],
            trust_after_eradication(trust[j], 0.0, in_programme[j], trust_loss_eradicated),
        )
    hit = np.empty(n, dtype=np.int64)
    n_hit = 0
    for j in range(n):
        if eradicated[j] != 0:
            hit[n_hit] = j
            n_hit += 1
    hit = hit[:n_hit]
    asked = np.zeros(forest_ha.size)
    for j in hit:
        no_alternative = (food_mature[j] + cacao_mature[j] + coffee_mature[j]) < no_alternative_legal_ha
        prob = replant_probability(
            p_replant, agreement[j], no_alternative, p_replant_agreement, replant_no_alternative_bonus
        )
        replanted[j] = eradicated[j] if u[j] < prob else 0.0
        asked[remote_cell[j]] += replanted[j] * share_replant_remote
    cleared = np.zeros(forest_ha.size)
    cleared_sum = eradicated_sum = replanted_sum = remote_sum = beyond_home_sum = 0.0
    for j in hit:
        lost = eradicated[j]
        c = remote_cell[j]
        home_before = coca_young[HOME, j] + coca_mature[HOME, j]
        coca_before = home_before + (coca_young[REMOTE, j] + coca_mature[REMOTE, j]) + lost
        remote = replanted[j] * share_replant_remote * rationed_share(forest_ha[c], asked[c])
        cleared[c] += remote
        in_place = replanted[j] - remote
        beyond_home = np.maximum(in_place - eradicated_home[j], 0.0)
        coca_young[HOME, j] += np.minimum(in_place, eradicated_home[j])
        coca_young[REMOTE, j] += remote + beyond_home
        farm_ha[j] += remote
        fallow[j] += lost - in_place
        share_lost = lost / np.maximum(coca_before, 1e-12)  # nothing eradicated where nothing grew
        trust[j] = trust_after_eradication(trust[j], share_lost, in_programme[j], trust_loss_eradicated)
        cleared_sum += remote
        eradicated_sum += lost
        replanted_sum += replanted[j]
        remote_sum += remote
        beyond_home_sum += beyond_home
    for c in range(forest_ha.size):
        forest_ha[c] = np.maximum(forest_ha[c] - cleared[c], 0.0)
    return cleared_sum, eradicated_sum, replanted_sum, remote_sum + beyond_home_sum


@rule
def relative_fertility(soil, initial_farmed, bonus=0.0):
    """Soil fertility relative to the 2013 farmed soils the sourced yields were measured on."""
    return clip(soil + bonus, 0.0, 1.0) / initial_farmed


def home_fertility(model) -> np.ndarray:
    """Relative fertility of each household's home farm, with the programme's soil recovery."""
    h = model.households
    return relative_fertility(h.soil_home, model.params.landscape.initial_fertility_farmed, h.soil_bonus)


def remote_fertility(model) -> np.ndarray:
    """Relative fertility of each household's remote field."""
    return relative_fertility(model.households.soil_remote, model.params.landscape.initial_fertility_farmed)


@rule
def plot_land_shares(farm_ha, fallow_ha, coca_home_ha, coca_remote_ha):
    """Coca and fallow shares of the home farm, and of the remote field (ha/ha, 0-1).

    The remote field is all coca while it has any (it is opened for coca, the balloon effect) and
    lies fallow once it has none; the home farm is the rest of the household's land.
    """
    home_farm = maximum(farm_ha - coca_remote_ha, 1e-9)
    remote_coca = where(coca_remote_ha > 0, 1.0, 0.0)
    return (
        clip(coca_home_ha / home_farm, 0.0, 1.0),
        clip(fallow_ha / home_farm, 0.0, 1.0),
        remote_coca,
        1.0 - remote_coca,
    )


def wear_soils(model) -> float:
    """Monthly soil change of every household's home farm and remote field; the soil map.

    The rule is :func:`vraem.landscape.fertility_change`, applied per plot.

    Each plot wears down under its own coca and recovers under its own fallow (seed interview:
    20-30 years of coca exhaust the soil), so a remote field loses fertility like any other and
    never climbs above the fertility of soil that was never farmed (``UNFARMED_FERTILITY``).
    Soils are per plot, not per cell: the loss depends on a plot's own coca share, which a
    cell-wide share would average differently in a small valley with fewer households per cell.
    The map shows the farmland-weighted soil of the home farms in each cell.

    Returns the new :func:`mean_soil_fertility`, taken in the same pass as the map.
    """
    h, lp = model.households, model.params.landscape
    return _wear_soils(
        h.cell,
        h.farm_ha,
        h.fallow,
        h.coca_young,
        h.coca_mature,
        h.soil_home,
        h.soil_remote,
        lp.fertility_loss_per_year_coca,
        lp.fertility_recovery_per_year,
        model.landscape.layer("fertility"),
    )


@kernel
def _wear_soils(
    cell, farm_ha, fallow, coca_young, coca_mature, soil_home, soil_remote, loss, gain, fertility
):
    """The soils of :func:`wear_soils`, the cells' farmland-weighted home soil (``fertility``).

    The soils are updated in a loop of their own, which the compiler vectorizes (no scatter into
    cells in it); the cells' sums follow in a second loop, in household order, with the sums of
    :func:`mean_soil_fertility` (returned).
    """
    for i in range(cell.size):
        home_coca, home_fallow, remote_coca, remote_fallow = plot_land_shares(
            farm_ha[i],
            fallow[i],
            coca_young[HOME, i] + coca_mature[HOME, i],
            coca_young[REMOTE, i] + coca_mature[REMOTE, i],
        )
        soil_home[i] = minimum(
            fertility_change(soil_home[i], home_coca, home_fallow, loss, gain), UNFARMED_FERTILITY
        )
        soil_remote[i] = minimum(
            fertility_change(soil_remote[i], remote_coca, remote_fallow, loss, gain), UNFARMED_FERTILITY
        )
    farm = np.zeros(fertility.size)
    soil = np.zeros(fertility.size)
    soil_sum = 0.0
    area = 0.0
    for i in range(cell.size):
        farm[cell[i]] += farm_ha[i]
        soil[cell[i]] += farm_ha[i] * soil_home[i]
        home, remote = farmed_plots_ha(farm_ha[i], coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        soil_sum += soil_home[i] * home + soil_remote[i] * remote
        area += home + remote
    for c in range(fertility.size):
        if farm[c] > 0:
            fertility[c] = soil[c] / farm[c]
    return soil_sum / max(area, 1e-9)


@rule
def farmed_plots_ha(farm_ha, remote_coca_ha):
    """Farmed area of the home farm and of the remote field, ha (weights of the mean soil).

    The remote field is its coca, the home farm the rest of the household's land.
    """
    return maximum(farm_ha - remote_coca_ha, 0.0), remote_coca_ha


def mean_soil_fertility(h) -> float:
    """Mean soil fertility of farmed land (home farms and remote fields, weighted by area)."""
    return _mean_soil_fertility(h.farm_ha, h.coca_young, h.coca_mature, h.soil_home, h.soil_remote)


@kernel
def _mean_soil_fertility(farm_ha, coca_young, coca_mature, soil_home, soil_remote):
    """:func:`mean_soil_fertility`, over :func:`farmed_plots_ha`."""
    soil = 0.0
    area = 0.0
    for i in range(farm_ha.size):
        home, remote = farmed_plots_ha(farm_ha[i], coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        soil += soil_home[i] * home + soil_remote[i] * remote
        area += home + remote
    return soil / max(area, 1e-9)


@rule
def leaf_harvest_kg(leaf_kg_per_ha_year, home_ha, home_fertility, remote_ha, remote_fertility):
    """Leaf harvested in a month, kg: each plot's mature coca x yield x its relative fertility."""
    return leaf_kg_per_ha_year / 12.0 * (home_ha * home_fertility + remote_ha * remote_fertility)


def update_yield_inputs(model) -> None:
    """Inputs raise coca yields this month (rule :func:`input_yield_factor`; ``rising_yields``).

    The valley's farm-gate leaf price relative to its opening level drives the inputs bought. Off,
    yields stay at the sourced 2013 level (times each plot's soil).
    """
    p = model.params
    if not p.mechanisms.rising_yields:
        return
    vp = p.valley
    model.coca_yield_factor = float(
        input_yield_factor(
            model.coca_yield_factor,
            vp.coca_input_gain_per_year,
            vp.coca_input_max_factor,
            model.prices.leaf_usd / max(model.opening_leaf_usd, 1e-12),
        )
    )


def harvest(model) -> np.ndarray:
    """Leaf harvested by each household this month, kg (rule :func:`leaf_harvest_kg`)."""
    p, h = model.params, model.households
    leaf_kg, model.coca_harvested_ha, model.coca_unharvested_ha = _harvest(
        h.coca_mature,
        h.soil_home,
        h.soil_bonus,
        h.soil_remote,
        p.landscape.initial_fertility_farmed,
        p.crops.coca_leaf_kg_per_ha_year * model.coca_yield_factor,
        h.coca_idle,
        model.labour_supply,
    )
    return leaf_kg


@kernel
def _harvest(
    coca_mature, soil_home, soil_bonus, soil_remote, initial_fertility, leaf_kg_per_ha_year, coca_idle, labour
):
    """:func:`harvest`: the home farm with the programme's soil bonus, the remote field without.

    Each household harvests its :func:`harvested_share` of its mature coca. Returns the leaf of
    each household, kg, and the mature coca harvested and left unharvested this month, ha.
    """
    leaf_kg = np.empty(soil_home.size)
    harvested = unharvested = 0.0
    for i in range(soil_home.size):
        mature_ha = coca_mature[HOME, i] + coca_mature[REMOTE, i]
        share = harvested_share(coca_idle[i], mature_ha, labour)
        leaf_kg[i] = share * leaf_harvest_kg(
            leaf_kg_per_ha_year,
            coca_mature[HOME, i],
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            coca_mature[REMOTE, i],
            relative_fertility(soil_remote[i], initial_fertility),
        )
        harvested += share * mature_ha
        unharvested += (1.0 - share) * mature_ha
    return leaf_kg, harvested, unharvested


@rule
def legal_revenue(
    food_ha, cacao_ha, coffee_ha, food_usd, cacao_usd, coffee_usd, yield_factor, fertility, access
):
    """Legal crop revenue of a household in a month, USD.

    Mature hectares times each crop's revenue per ha per year (cacao and coffee with the
    programme's :func:`programme_yield_factor`), scaled by the home farm's relative fertility and
    the market access of its cell (docs/odd.md, section 7.14).
    """
    per_year = (
        food_ha * food_usd + yield_factor * cacao_ha * cacao_usd + yield_factor * coffee_ha * coffee_usd
    )
    return per_year * fertility * access / 12.0


def legal_revenue_usd(model) -> np.ndarray:
    """Legal crop revenue of each household this month, USD (rule :func:`legal_revenue`)."""
    cp, h, L = model.params.crops, model.households, model.landscape
    cacao, coffee, food = crop_revenues(model)
    return legal_revenue(
        h.food_mature,
        h.cacao_mature,
        h.coffee_mature,
        food,
        cacao,
        coffee,
        programme_yield_factor(h.stage, cp.programme_yield_bonus),
        home_fertility(model),
        L.layer("market_access")[h.cell],
    )


@rule
def net_income_usd(coca_income_usd, coca_cost_share, leaf_kg, leaf_usd, legal_income_usd, welfare_usd):
    """A household's net income in a month, USD.

    Coca sales less the costs of growing the leaf (a share of its worth at the farm-gate price),
    plus legal income (net of its costs) and welfare (docs/odd.md, section 7.14).
    """
    return coca_income_usd - coca_cost_share * leaf_kg * leaf_usd + legal_income_usd + welfare_usd


def update_incomes(model, leaf_kg: np.ndarray, welfare_usd: np.ndarray) -> float:
    """Each household's legal and net income this month; returns the legal sales, USD.

    Legal revenue is :func:`legal_revenue`, legal income that revenue net of
    ``farmer.legal_cost_share``, income :func:`net_income_usd`.
    """
    p, h, L = model.params, model.households, model.landscape
    cacao, coffee, food = crop_revenues(model)
    return _update_incomes(
        h.cell,
        h.stage,
        h.food_mature,
        h.cacao_mature,
        h.coffee_mature,
        h.soil_home,
        h.soil_bonus,
        h.coca_income,
        leaf_kg,
        welfare_usd,
        h.legal_income,
        h.income,
        L.layer("market_access"),
        food,
        cacao,
        coffee,
        p.crops.programme_yield_bonus,
        p.landscape.initial_fertility_farmed,
        p.farmer.legal_cost_share,
        p.farmer.coca_cost_share,
        model.prices.leaf_usd,
    )


@kernel
def _update_incomes(
    cell,
    stage,
    food_mature,
    cacao_mature,
    coffee_mature,
    soil_home,
    soil_bonus,
    coca_income,
    leaf_kg,
    welfare_usd,
    legal_income,
    income,
    market_access,
    food_usd,
    cacao_usd,
    coffee_usd,
    yield_bonus,
    initial_fertility,
    legal_cost_share,
    coca_cost_share,
    leaf_usd,
):
    """:func:`update_incomes`: writes ``legal_income`` and ``income``; returns the legal sales.

    The cells' market access is gathered first and the sales summed last (in household order), so
    that the loop over the incomes has neither and vectorizes.
    """
    n = cell.size
    access = np.empty(n)
    for i in range(n):
        access[i] = market_access[cell[i]]
    revenue = np.empty(n)
    for i in range(n):
        revenue[i] = legal_revenue(
            food_mature[i],
            cacao_mature[i],
            coffee_mature[i],
            food_usd,
            cacao_usd,
            coffee_usd,
            programme_yield_factor(stage[i], yield_bonus),
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            access[i],
        )
        legal_income[i] = revenue[i] * (1.0 - legal_cost_share)
        income[i] = net_income_usd(
            coca_income[i], coca_cost_share, leaf_kg[i], leaf_usd, legal_income[i], welfare_usd[i]
        )
    sales = 0.0
    for i in range(n):
        sales += revenue[i]
    return sales


def mature_crops(model) -> None:
    """Young plantings of every crop move into production (rule :func:`mature`)."""
    fp, h = model.params.farmer, model.households
    _mature_crops(
        h.coca_young,
        h.coca_mature,
        h.food_young,
        h.food_mature,
        h.cacao_young,
        h.cacao_mature,
        h.coffee_young,
        h.coffee_mature,
        fp.coca_maturity_months,
        fp.food_maturity_months,
        fp.perennial_maturity_months,
    )


@kernel
def _mature_crops(
    coca_young,
    coca_mature,
    food_young,
    food_mature,
    cacao_young,
    cacao_mature,
    coffee_young,
    coffee_mature,
    coca_months,
    food_months,
    perennial_months,
):
    """:func:`mature_crops`, household by household."""
    for i in range(food_young.size):
        for plot in (HOME, REMOTE):
            coca_young[plot, i], coca_mature[plot, i] = mature(
                coca_young[plot, i], coca_mature[plot, i], coca_months
            )
        food_young[i], food_mature[i] = mature(food_young[i], food_mature[i], food_months)
        cacao_young[i], cacao_mature[i] = mature(cacao_young[i], cacao_mature[i], perennial_months)
        coffee_young[i], coffee_mature[i] = mature(coffee_young[i], coffee_mature[i], perennial_months)


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
    home_cells = np.zeros(n_cells)
    remote_cells = np.zeros(n_cells)
    coca_ha = np.zeros(n_districts)
    growers = np.zeros(n_districts)
    trust_sum = np.zeros(n_districts)
    for i in range(cell.size):
        home = coca_young[HOME, i] + coca_mature[HOME, i]
        remote = coca_young[REMOTE, i] + coca_mature[REMOTE, i]
        home_cells[cell[i]] += home
        remote_cells[remote_cell[i]] += remote
        d = district[i]
        coca = home + remote
        coca_ha[d] += coca
        growers[d] += 1.0 if coca > 0 else 0.0
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
