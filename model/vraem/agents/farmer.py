"""Farmer households (campesinos / cocaleros): docs/odd.md.

A household's state lives in the columns of :class:`Households` (one NumPy array per
attribute), and the monthly decisions of all households run as array arithmetic over those
columns: a per-household Python loop would cost about 0.6 us per agent per step before doing
anything, too slow for 20,000 households over 240 months. Each household can also be addressed as
a Mesa agent (:class:`Farmer`) on its home cell, a view of its row; these agents are built on
first use (:func:`household_agents`, ``VraemModel.farmers``), for the UI and tests, so that a
sweep's runs do not pay for objects nothing reads.

The behaviour rules are module-level functions that work on scalars and arrays alike, so the same
rule serves one household in a test and all of them in the model.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np
from mesa.discrete_space import CellAgent

from vraem.economy import coca_net_usd_per_ha_year, legal_net_usd_per_ha_year, rationed_share
from vraem.jit import clip, kernel, rule, where
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
    gap = (coca_net - legal_net - premium) / 1_000.0
    return max_ha * sigmoid(sensitivity * gap + norm_weight * (neighbour_share - 0.5))


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
    # A remote field: the most remote of three random spots a few cells away.
    x, y = L.xy(cell)
    r = fp.remote_field_radius_cells
    offsets = rng.integers(-r, r + 1, size=(3, 2, n))
    cx = np.clip(x + offsets[:, 0], 0, L.width - 1)
    cy = np.clip(y + offsets[:, 1], 0, L.height - 1)
    cand = cx * L.height + cy
    best = np.argmax(L.layer("dist_road")[cand] + L.layer("forest_ha")[cand] / L.cell_ha, axis=0)
    remote = cand[best, np.arange(n)]

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
    h = Households(
        cell=cell,
        remote_cell=remote,
        district=L.district[cell],
        clan=np.zeros(n, dtype=np.intp),
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
        programme_order=rng.permutation(n),
    )
    return h


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


def leaf_value_usd_per_kg(model) -> np.ndarray:
    """What a kilogram of leaf is worth to each household this month (sold, or made into paste)."""
    h = model.households
    return np.where(h.processes_paste, model.prices.own_paste_leaf_usd, model.prices.leaf_usd)


def desired_coca_ha(model, neighbour_share: np.ndarray) -> np.ndarray:
    """Coca each household would like to hold, ha (rule :func:`target_coca_share`)."""
    p, h, L = model.params, model.households, model.landscape
    fp, cp = p.farmer, p.crops
    fert = home_fertility(model)
    access = L.layer("market_access")[h.cell]
    expected = h.expected_leaf_value
    moral = (
        moral_cost_by_type(fp.moral_cost_usd_per_ha_year)[h.kind] + h.worry * fp.child_worry_usd_per_ha_year
    )
    coca_net = coca_net_usd(expected, cp.coca_leaf_kg_per_ha_year, fert, fp, h.risk, moral)
    legal_net = legal_net_usd(model, fert, access)
    want = target_coca_ha(
        coca_net,
        legal_net,
        fp.illegality_premium_usd_per_ha_year,
        fp.allocation_sensitivity,
        neighbour_share,
        fp.norm_weight,
        fp.max_coca_ha * model.initial_coca_rescale,
    )
    return np.where((h.kind == HouseholdType.NEVER) | h.agreement, 0.0, want)


def coca_net_usd(expected, yield_kg, fert, fp, risk, moral):
    """Expected coca net income per ha per year for each household (economy rule)."""
    with np.errstate(invalid="ignore"):
        return coca_net_usd_per_ha_year(
            expected, yield_kg, fert, fp.coca_cost_share, risk, fp.risk_weight, moral
        )


def price_index(path, month: int) -> float:
    """A yearly price index in force in ``month`` (year 1 = months 0-11; the last year holds)."""
    if not path:
        return 1.0
    return float(path[min(month // 12, len(path) - 1)])


def crop_revenues(model) -> tuple[float, float, float]:
    """Revenue per ha per year of cacao, coffee and food this month, USD (world price paths)."""
    cp, month = model.params.crops, model.month
    cacao = cp.cacao_kg_per_ha_year * cp.cacao_usd_per_kg * price_index(cp.cacao_price_index_by_year, month)
    coffee = cp.coffee_usd_per_ha_year * price_index(cp.coffee_price_index_by_year, month)
    return cacao, coffee, cp.food_usd_per_ha_year


def best_legal_revenue(model) -> np.ndarray:
    """Revenue of each household's best legal crop, USD/ha/yr, with programme support."""
    cp, h = model.params.crops, model.households
    best = max(crop_revenues(model))
    return best * np.where(h.stage >= ProgrammeStage.PERENNIAL, 1.0 + cp.programme_yield_bonus, 1.0)


@rule
def own_legal_planting(fallow_ha, rate_ha, price_index_now, titled, title_boost, pays):
    """Perennials a household plants on its own fallow this month, ha.

    Families extend cacao or coffee when its price rises above its 2013 level (in proportion to
    the rise, up to the labour rate at a doubling), and titled families also at 2013 prices, with
    credit (seed interview: a title lets farmers borrow money). Only where the crop pays.
    """
    drive = clip(price_index_now - 1.0, 0.0, 1.0) + where(titled, title_boost, 0.0)
    return where(pays, np.minimum(fallow_ha, rate_ha * drive), 0.0)


def plant_legal_crops(model, pulled_ha: np.ndarray) -> None:
    """Farmers choose legal crops themselves: land pulled out of coca and some fallow.

    Each household's perennial is cacao in the low valley and coffee above ``cacao_below_m``;
    land pulled out of coca goes to whichever of that perennial and food crops pays more per
    hectare net (at this month's world prices), or stays fallow when neither reaches
    ``crops.legal_min_net_usd_per_ha_year``; fallow is planted by :func:`own_legal_planting`.
    """
    p, h, L = model.params, model.households, model.landscape
    cp, fp, pp = p.crops, p.farmer, p.programme
    cacao_rev, coffee_rev, food_rev = crop_revenues(model)
    low = L.layer("elevation_m")[h.cell] < pp.cacao_below_m
    fert = home_fertility(model)
    access = L.layer("market_access")[h.cell]
    perennial_net = legal_net_usd_per_ha_year(
        np.where(low, cacao_rev, coffee_rev), fert, access, fp.legal_cost_share
    )
    food_net = legal_net_usd_per_ha_year(food_rev, fert, access, fp.legal_cost_share)
    perennial_better = perennial_net >= food_net
    pays = np.maximum(perennial_net, food_net) >= cp.legal_min_net_usd_per_ha_year
    to_legal = np.where(pays, pulled_ha, 0.0)
    h.fallow += pulled_ha - to_legal
    index = np.where(
        low,
        price_index(cp.cacao_price_index_by_year, model.month),
        price_index(cp.coffee_price_index_by_year, model.month),
    )
    own = own_legal_planting(
        h.fallow,
        cp.legal_expand_ha_per_month,
        index,
        h.stage >= ProgrammeStage.TITLE,
        pp.title_credit_boost,
        perennial_net >= cp.legal_min_net_usd_per_ha_year,
    )
    h.fallow -= own
    perennial = np.where(perennial_better, to_legal, 0.0) + own
    h.cacao_young += np.where(low, perennial, 0.0)
    h.coffee_young += np.where(low, 0.0, perennial)
    h.food_young += np.where(perennial_better, 0.0, to_legal)
    model.month_flows["legal_planted_own_ha"] += float(to_legal.sum() + own.sum())


def legal_net_usd(model, fert, access) -> np.ndarray:
    """Expected net income of a hectare of the best legal crop for each household."""
    return legal_net_usd_per_ha_year(
        best_legal_revenue(model), fert, access, model.params.farmer.legal_cost_share
    )


# ---------------------------------------------------------------------------------------------
# Monthly phase


def allocate_land(model) -> None:
    """Farmers' monthly land decision: plant or pull out coca toward their desired area.

    New coca comes from fallow first, then from forest cleared at the home cell, then in the
    remote field once the home cell's forest is gone. Land changes slowly (labour-limited).
    """
    p, h, L = model.params, model.households, model.landscape
    fp = p.farmer
    value_now = leaf_value_usd_per_kg(model)
    h.expected_leaf_value[:] = update_expectation(
        h.expected_leaf_value,
        value_now,
        fp.expectation_rate,
    )
    district_risk = annual_risk(model.district_eradicated_share)
    h.risk[:] = update_expectation(h.risk, district_risk[h.district], fp.risk_memory_rate)
    coca = h.coca_ha()
    desired = desired_coca_ha(model, model.district_coca_share[h.district])
    noise = model.streams.allocation.uniform(1.0 - fp.labour_noise, 1.0 + fp.labour_noise, h.n)
    change = land_change_ha(desired, coca, fp.max_expand_ha_per_month * noise, fp.max_abandon_ha_per_month)

    plant = np.maximum(change, 0.0)
    from_fallow = np.minimum(plant, h.fallow)
    h.fallow -= from_fallow
    to_clear = plant - from_fallow
    # Forest available at home is shared among the households clearing there this month.
    forest = L.layer("forest_ha")
    asked = np.bincount(h.cell, weights=to_clear, minlength=L.n_cells)
    home_clear = to_clear * rationed_share(forest, asked)[h.cell]
    remote_want = to_clear - home_clear
    asked_r = np.bincount(h.remote_cell, weights=remote_want, minlength=L.n_cells)
    cleared_home = np.bincount(h.cell, weights=home_clear, minlength=L.n_cells)
    remote_clear = remote_want * rationed_share(forest - cleared_home, asked_r)[h.remote_cell]
    cleared = cleared_home + np.bincount(h.remote_cell, weights=remote_clear, minlength=L.n_cells)
    forest -= cleared
    np.maximum(forest, 0.0, out=forest)
    model.month_flows["forest_cleared_ha"] += float(cleared.sum())
    h.farm_ha += home_clear + remote_clear
    h.coca_young[HOME] += from_fallow + home_clear
    h.coca_young[REMOTE] += remote_clear

    # Pulling out coca: mature fields first, home before remote; the land goes to a legal crop
    # that pays, or to fallow.
    pull = np.minimum(np.maximum(-change, 0.0), coca)
    pulled = pull.copy()
    for plot in (HOME, REMOTE):
        for stock in (h.coca_mature, h.coca_young):
            take = np.minimum(pull, stock[plot])
            stock[plot] -= take
            pull -= take
    plant_legal_crops(model, pulled - pull)


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
    # zeros): only its trust rule runs. The others are listed, in household order.
    hit = np.empty(n, dtype=np.int64)
    n_hit = 0
    for j in range(n):
        eradicated[j] = eradicated_home[j] + eradicated_remote[j]
        replanted[j] = 0.0
        hit[n_hit] = j
        if eradicated[j] != 0:
            n_hit += 1
        else:
            trust[j] = trust_after_eradication(trust[j], 0.0, in_programme[j], trust_loss_eradicated)
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
    home_farm = np.maximum(farm_ha - coca_remote_ha, 1e-9)
    remote_coca = where(coca_remote_ha > 0, 1.0, 0.0)
    return (
        clip(coca_home_ha / home_farm, 0.0, 1.0),
        clip(fallow_ha / home_farm, 0.0, 1.0),
        remote_coca,
        1.0 - remote_coca,
    )


def wear_soils(model) -> None:
    """Monthly soil change of every household's home farm and remote field; the soil map.

    The rule is :func:`vraem.landscape.fertility_change`, applied per plot.

    Each plot wears down under its own coca and recovers under its own fallow (seed interview:
    20-30 years of coca exhaust the soil), so a remote field loses fertility like any other and
    never climbs above the fertility of soil that was never farmed (``UNFARMED_FERTILITY``).
    Soils are per plot, not per cell: the loss depends on a plot's own coca share, which a
    cell-wide share would average differently in a small valley with fewer households per cell.
    """
    p, h, L = model.params, model.households, model.landscape
    lp = p.landscape
    coca = h.coca_young + h.coca_mature
    home_coca, home_fallow, remote_coca, remote_fallow = plot_land_shares(
        h.farm_ha, h.fallow, coca[HOME], coca[REMOTE]
    )
    loss, gain = lp.fertility_loss_per_year_coca, lp.fertility_recovery_per_year
    h.soil_home[:] = np.minimum(
        fertility_change(h.soil_home, home_coca, home_fallow, loss, gain), UNFARMED_FERTILITY
    )
    h.soil_remote[:] = np.minimum(
        fertility_change(h.soil_remote, remote_coca, remote_fallow, loss, gain), UNFARMED_FERTILITY
    )
    # The map shows the farmland-weighted soil of the home farms in each cell.
    farm = np.bincount(h.cell, weights=h.farm_ha, minlength=L.n_cells)
    soil = np.bincount(h.cell, weights=h.farm_ha * h.soil_home, minlength=L.n_cells)
    fert = L.layer("fertility")
    np.divide(soil, farm, out=fert, where=farm > 0)


def mean_soil_fertility(h) -> float:
    """Mean soil fertility of farmed land (home farms and remote fields, weighted by area)."""
    remote = h.coca_young[REMOTE] + h.coca_mature[REMOTE]
    home = np.maximum(h.farm_ha - remote, 0.0)
    return float((h.soil_home * home + h.soil_remote * remote).sum() / max((home + remote).sum(), 1e-9))


def harvest(model) -> np.ndarray:
    """Leaf harvested by each household this month, kg (mature coca x yield x fertility)."""
    p, h = model.params, model.households
    per_ha_month = p.crops.coca_leaf_kg_per_ha_year / 12.0
    return per_ha_month * (
        h.coca_mature[HOME] * home_fertility(model) + h.coca_mature[REMOTE] * remote_fertility(model)
    )


def legal_revenue_usd(model) -> np.ndarray:
    """Legal crop revenue of each household this month, USD."""
    cp, h, L = model.params.crops, model.households, model.landscape
    fert = home_fertility(model)
    access = L.layer("market_access")[h.cell]
    bonus = np.where(h.stage >= ProgrammeStage.PERENNIAL, 1.0 + cp.programme_yield_bonus, 1.0)
    cacao, coffee, food = crop_revenues(model)
    per_year = h.food_mature * food + bonus * h.cacao_mature * cacao + bonus * h.coffee_mature * coffee
    return per_year * fert * access / 12.0


def mature_crops(model) -> None:
    """Young plantings of every crop move into production (rule :func:`mature`)."""
    fp, h = model.params.farmer, model.households
    h.coca_young[:], h.coca_mature[:] = mature(h.coca_young, h.coca_mature, fp.coca_maturity_months)
    h.food_young[:], h.food_mature[:] = mature(h.food_young, h.food_mature, fp.food_maturity_months)
    h.cacao_young[:], h.cacao_mature[:] = mature(h.cacao_young, h.cacao_mature, fp.perennial_maturity_months)
    h.coffee_young[:], h.coffee_mature[:] = mature(
        h.coffee_young, h.coffee_mature, fp.perennial_maturity_months
    )
