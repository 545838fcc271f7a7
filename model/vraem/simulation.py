"""The VRAEM model: wiring and the phase order of a month, nothing else.

One step is one month. The schedule reads like the ODD protocol's: market, farmers, clans,
cartels, security forces, mayors and the state's programme, landscape, collect. The mechanisms
live in :mod:`vraem.economy`, :mod:`vraem.agents`, :mod:`vraem.programme` and
:mod:`vraem.landscape`; outputs are the named reporters of :mod:`vraem.metrics`.
"""

from __future__ import annotations

import mesa
import numpy as np

from vraem import economy, metrics, migration, programme
from vraem.agents import (
    cartel,
    clan,
    coca_wanted,
    expectations,
    farmer,
    harvest,
    income,
    land,
    legal_crops,
    maturation,
    mayor,
    police,
    rising_yields,
    soils,
)
from vraem.agents.farmer import Farmer
from vraem.landscape import build_landscape
from vraem.params import ModelParams
from vraem.policy import Policy, levers_at
from vraem.rng import Streams


class VraemModel(mesa.Model):
    """The coca and cocaine economy of the VRAEM on a generated valley.

    Args:
        params: Parameters (defaults: :class:`vraem.params.ModelParams`).
        policy: The policy timeline (default: every lever off).
        seed: The run's seed; every random draw flows from it through named streams.
        months: Horizon, for ``running``.
        map_months: Months at which the coca map (ha per cell) is kept in ``maps``.
        rasters: Optional user rasters (see :func:`vraem.landscape.load_rasters`).
        start_year: Calendar year of month 0 (phases with ``observed_history`` read it).
    """

    def __init__(
        self,
        params: ModelParams | None = None,
        policy: Policy | None = None,
        seed: int = 0,
        months: int = 240,
        map_months: list[int] | tuple[int, ...] = (),
        rasters: dict[str, np.ndarray] | None = None,
        start_year: int = 2013,
    ) -> None:
        super().__init__(rng=seed)
        self.params = params or ModelParams()
        self.policy = policy or Policy()
        self.seed = seed
        self.months = months
        self.start_year = start_year
        self.map_months = set(map_months)
        self.month = 0
        self.streams = Streams(seed)
        p = self.params
        n_d = p.landscape.n_districts

        self.landscape = build_landscape(
            p.landscape, self.streams.landscape, rasters, random=self.random, area_scale=p.scale
        )
        L = self.landscape
        self.month_flows = metrics.new_flows()
        self.hostility = np.full(n_d, p.security.initial_hostility)
        self.district_accepting = np.zeros(n_d, dtype=bool)
        self.district_eradicated_share = np.zeros(n_d)
        self.district_coca_ha = np.zeros(n_d)
        self.district_coca_share = np.full(n_d, 0.5)
        self.district_mean_trust = np.full(n_d, p.farmer.initial_trust)
        self.road_fund_soles = 0.0
        self.district_delivery = np.zeros(n_d)
        """How fully the programme delivered in each district last month (0-1; :mod:`vraem.programme`)."""
        self.lab_site_cache: clan.LabSites | None = None
        """Lab sites per clan, with cached weights (set by :func:`vraem.agents.clan.build_labs`)."""
        self.prices = economy.Prices(p.market.paste_price_usd_per_kg, p.market, p.clan.broker_margin)
        self.labour_supply = 1.0
        """The valley's hired labour relative to normal (:mod:`vraem.migration`; 1 in a closed valley)."""
        self.coca_yield_factor = 1.0
        """Coca yields relative to 2013 (inputs: :func:`vraem.agents.rising_yields.update_yield_inputs`)."""
        self.outbreak_months_left = np.zeros(2, dtype=np.int64)
        """Months left of the cacao and coffee epidemics (:func:`vraem.agents.legal_crops.spread_disease`)."""

        self.households = farmer.create_households(self, self.streams.households)
        legal_crops.perennials_by_altitude(self)
        self._households_per_district = np.maximum(np.bincount(self.households.district, minlength=n_d), 1)
        self.clans, self.cell_clan = clan.create_clans(self, self.streams.clans)
        self.households.clan[:] = self.cell_clan[self.households.cell]
        self.clan_stock_kg = np.zeros(len(self.clans))
        self.clan_cash_usd = np.zeros(len(self.clans))
        self.cartels, self.airstrips = cartel.create_cartels(self, self.streams.cartels)
        self.cartel_stock_kg = 0.0
        self.cartel_cash_usd = 0.0
        self._farmers: list[Farmer] | None = None
        towns = L.towns
        self.security_units = [
            police.SecurityUnit(self, i, int(towns[i % towns.size])) for i in range(p.security.n_units)
        ]
        linked = self.streams.mayors.random(n_d) < p.mayor.p_linked
        self.mayors = [mayor.Mayor(self, d, int(towns[d]), bool(linked[d])) for d in range(n_d)]

        self.households.expected_leaf_value[:] = expectations.leaf_value_usd_per_kg(self)
        coca_wanted.seed_initial_coca(self)
        self._update_coca_layers(first=True)
        leaf_kg = harvest.harvest(self)
        self.labs = clan.build_labs(self, leaf_kg, self.streams.clans)
        self.base_demand_t = float(leaf_kg.sum() / p.market.leaf_kg_per_kg_base / 1_000.0)
        self._supply_t = self.base_demand_t
        self._seized_t = self._shipped_t = 0.0
        economy.update_market(self, self._supply_t, 0.0, self.base_demand_t)
        self.opening_leaf_usd = self.prices.leaf_usd
        self.households.coca_income[:] = leaf_kg * expectations.leaf_value_usd_per_kg(self)
        self._update_households_income(leaf_kg)
        # Mayors weigh the opening incomes (month 0's record); every later month they decide on the
        # incomes households hold then, before the programme spends (step).
        mayor.decide(self)
        income.seed_savings(self)
        self.maps: dict[int, np.ndarray] = {}
        self.mean_fertility = soils.mean_soil_fertility(self.households)
        """Mean soil fertility of farmed land, taken when the soils change (``_update_landscape``)."""
        self.datacollector = metrics.MonthlyCollector(model_reporters=metrics.build_reporters(n_d))
        self._collect()

    # -------------------------------------------------------------------------------------
    @property
    def farmers(self) -> list[Farmer]:
        """The households as Mesa agents on their home cells, built on first use.

        The monthly rules work on the columns of ``households`` and nothing in a run reads these
        agents, so a sweep never builds them (20,000 of them cost about 0.15 s, a tenth of a
        full-scale run). The UI, the tests and users get them here, or through Mesa's ``agents``
        and ``agents_by_type``, which build them too.
        """
        self._with_households()
        return self._farmers

    def _with_households(self) -> None:
        if self._farmers is None:
            self._farmers = farmer.household_agents(self)

    @property
    def agents(self):
        """Every Mesa agent of the model, households included (see :attr:`farmers`)."""
        self._with_households()
        return super().agents

    @property
    def agents_by_type(self):
        """Mesa's agents by type, households included (see :attr:`farmers`)."""
        self._with_households()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Agent types of the model, households included (see :attr:`farmers`)."""
        self._with_households()
        return super().agent_types

    # -------------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one month."""
        self.month += 1
        p = self.params
        levers = levers_at(
            self.policy, self.month, p.scale, p.farmer.p_replant, self.start_year, p.mechanisms.state_retreat
        )
        self.month_flows = metrics.new_flows()
        f = self.month_flows

        # Migration: settlers and refugees arrive, households leave, hired labour moves.
        migration.migrate(self)
        # Market: prices from last month's supply and seizures; inputs raise coca yields.
        economy.update_market(self, self._supply_t, self._seized_t, self._shipped_t)
        rising_yields.update_yield_inputs(self)
        legal_crops.spread_disease(self)
        # Farmers: land decisions and harvest.
        land.allocate_land(self)
        leaf_kg = harvest.harvest(self)
        # Clans: buy leaf and paste, process, sell to the cartels.
        clan.buy_and_process(self, leaf_kg)
        sold_kg = clan.sell_to_cartels(self, self.prices.demand_t * 1_000.0)
        # Cartels: fly and carry it out.
        waste = 1.0 - p.security.coordination_waste
        cartel.export(self, sold_kg, levers.flight_interdictions * waste, levers.courier_arrests * waste)
        # Security forces.
        police.eradicate(self, levers)
        police.raid_labs(self, levers.lab_raids)
        police.destroy_airstrips(self, levers.airstrip_destructions)
        clan.rebuild_labs(self)
        cartel.rebuild_airstrips(self)
        # Mayors and the state's programme.
        mayor.decide(self)
        programme.spend(self, levers.development_soles, levers.monitor_agreements)
        # Landscape: crops mature, soils change, coca is mapped.
        maturation.mature_crops(self)
        self._update_landscape()
        self._update_households_income(leaf_kg)
        income.update_savings(self)

        self._supply_t = f["paste_t"]
        self._seized_t = f["seized_in_transit_t"]
        self._shipped_t = f["shipped_t"]
        self._collect()
        if p.mechanisms.open_valley:
            self.streams.rekey(self.month)  # draws per household present: keep policies in step
        if self.month >= self.months:
            self.running = False

    # -------------------------------------------------------------------------------------
    def _update_households_income(self, leaf_kg: np.ndarray) -> None:
        f = self.month_flows
        welfare = programme.welfare_usd(self)
        f["usd_legal_sales"] += income.update_incomes(self, leaf_kg, welfare)
        f["usd_welfare"] += float(welfare.sum())

    def _update_coca_layers(self, first: bool = False) -> None:
        h, L = self.households, self.landscape
        new_virgin_ha = farmer.map_coca(
            h.cell,
            h.remote_cell,
            h.district,
            h.coca_young,
            h.coca_mature,
            h.trust,
            self._households_per_district,
            L.layer("coca_ha"),
            L.layer("ever_coca"),
            self.district_coca_ha,
            self.district_coca_share,
            self.district_mean_trust,
        )
        if not first:
            self.month_flows["new_coca_virgin_ha"] += new_virgin_ha

    def _update_landscape(self) -> None:
        p = self.params
        sp = p.security
        self.mean_fertility = soils.wear_soils(self)
        self._update_coca_layers()
        # Hostility relaxes toward a level set by the district's trust in the state.
        target = (
            sp.initial_hostility * (1.0 - self.district_mean_trust) / (1.0 - p.farmer.initial_trust + 1e-9)
        )
        self.hostility += sp.hostility_decay_per_month * (np.clip(target, 0, 1) - self.hostility)

    def _collect(self) -> None:
        self.household_totals = metrics.household_totals(self)
        self.datacollector.collect(self)
        if self.month in self.map_months:
            L = self.landscape
            self.maps[self.month] = L.layer("coca_ha").reshape(L.width, L.height).copy()

    # -------------------------------------------------------------------------------------
    def run(self) -> None:
        """Run to the horizon."""
        while self.running and self.month < self.months:
            self.step()

    def results(self):
        """Monthly outputs as a DataFrame indexed by month."""
        df = self.datacollector.get_model_vars_dataframe()
        df.insert(0, "month", np.arange(len(df)))
        return df.reset_index(drop=True)
