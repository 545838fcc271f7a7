"""District mayors: docs/odd.md.

Each of the 15 mayors (seed interview) decides every month whether the district takes the state's
development projects. Households that want projects push to accept; coca-dependent households push
to refuse (the mayor of Samugari first refused the money, then accepted when part of the
population wanted the project). Some mayors are linked to the drug trade and weigh the growers'
pressure more; local elections every four years can change that. A refusing district gets no
development money.
"""

from __future__ import annotations

import numpy as np

from vraem.jit import kernel, rule, where
from vraem.landscape import SitedAgent


@rule
def mayor_accepts(share_for, share_against, linked, linked_bias):
    """Whether a mayor accepts state projects: the louder side wins, linked mayors lean to growers."""
    return acceptance_gap(share_for, share_against, linked, linked_bias) > 0


@rule
def acceptance_gap(share_for, share_against, linked, linked_bias):
    """Share wanting projects minus the (linked-weighted) share against them."""
    return share_for - share_against * (1.0 + where(linked, linked_bias, 0.0))


@rule
def acceptance_probability(gap, spread):
    """Chance that a mayor accepts this month: logistic in the pressure gap.

    Samugari's mayor first refused, then accepted when part of the population wanted the project
    (seed interview); the spread is the uncertainty with which a mayor hears the district.
    """
    return 1.0 / (1.0 + np.exp(-gap / spread))


class Mayor(SitedAgent):
    """The mayor of one district, seated in the district town (``site``: its flat cell index)."""

    def __init__(self, model, district: int, site: int, linked: bool) -> None:
        super().__init__(model, site)
        self.district = district
        self.linked = linked
        self.accepting = False


def decide(model) -> None:
    """Every mayor weighs the district's pressure; elections may change linked mayors.

    Households want projects when they trust the state (``mayor.trust_wanting_projects``) or
    grow no coca; households that live mostly from coca and do not want projects push against.
    """
    p, h = model.params, model.households
    mp = p.mayor
    n_d = p.landscape.n_districts
    u = model.streams.elections.random(n_d)
    mayors = model.mayors
    if model.month > 0 and model.month % mp.election_interval_months == 0:
        for mayor in mayors:
            mayor.linked = bool(u[mayor.district] < mp.p_linked)
        model.month_flows["elections"] += 1
    linked = np.array([m.linked for m in mayors])
    u_decide = model.streams.mayor_decisions.random(n_d)
    accept = model.district_accepting
    _decide(
        h.district,
        model._households_per_district,
        h.trust,
        h.coca_young,
        h.coca_mature,
        h.coca_income,
        h.legal_income,
        linked,
        u_decide,
        mp.trust_wanting_projects,
        mp.coca_dependence_share,
        mp.linked_bias,
        mp.pressure_spread,
        accept,
    )
    accepting = accept.tolist()
    for mayor in mayors:
        mayor.accepting = accepting[mayor.district]


_SIDES, _FOR, _AGAINST = 3, 1, 2
"""A household's side in :func:`_decide`: neither (0), for projects, against them (of three)."""


@kernel
def _decide(
    district,
    households_per_district,
    trust,
    coca_young,
    coca_mature,
    coca_income,
    legal_income,
    linked,
    u,
    trust_wanting,
    dependence_share,
    linked_bias,
    spread,
    accept,
):
    """Shares for and against projects in each district, and the mayors' choices (into ``accept``).

    Each household's side (for, against, neither) is found in a pass with no branches (the
    compiler vectorizes it), then counted per district: whole counts, the same in any order.
    """
    n_d = accept.size
    n = district.size
    side = np.empty(n, dtype=np.int32)
    for i in range(n):
        coca = (coca_young[0, i] + coca_mature[0, i]) + (coca_young[1, i] + coca_mature[1, i])
        wants = (trust[i] >= trust_wanting) | (coca <= 0)
        dependent = coca_income[i] > dependence_share * (coca_income[i] + legal_income[i])
        side[i] = _SIDES * district[i] + np.int32(wants) * _FOR + np.int32(dependent & (not wants)) * _AGAINST
    counts = np.zeros(_SIDES * n_d, dtype=np.int64)
    for i in range(n):
        counts[side[i]] += 1
    for d in range(n_d):
        share_for = counts[_SIDES * d + _FOR] / households_per_district[d]
        share_against = counts[_SIDES * d + _AGAINST] / households_per_district[d]
        gap = acceptance_gap(share_for, share_against, linked[d], linked_bias)
        accept[d] = u[d] < acceptance_probability(gap, spread)
