"""Farmers: the coca a household wants (docs/odd.md, section 7.3).

A household wants the share of its labour capacity for coca that a logit in the income gap gives:
the expected net income of a hectare of coca (less risk and moral cost) against the best legal crop
its altitude allows, beyond the premium an illegal crop must pay, shifted by the share of its
neighbours who grow coca (the social norm). Never-types and households under an agreement want
none. The same rule seeds the opening coca (:func:`seed_initial_coca`, docs/odd.md section 5).
"""

from __future__ import annotations

import numpy as np

from vraem.agents.farmer import HOME, HouseholdType
from vraem.agents.legal_crops import best_legal_revenue
from vraem.agents.soils import home_fertility
from vraem.economy import coca_net_usd_per_ha_year, legal_net_usd_per_ha_year
from vraem.jit import rule, where


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
def moral_cost(type_cost, worry, child_worry_usd):
    """A household's moral cost of a hectare of coca, USD/ha/yr.

    Its type's cost (:func:`moral_cost_by_type`) plus the worry of a family whose child carries
    paste, at ``child_worry_usd`` per unit of worry (docs/odd.md).
    """
    return type_cost + worry * child_worry_usd


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
def grows_coca(kind, agreement):
    """Whether a household would grow coca at all: not never-types, nor under an agreement."""
    return where(agreement, False, kind != HouseholdType.NEVER)


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
