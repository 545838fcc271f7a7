"""District mayors: docs/odd.md.

Each of the 15 mayors (seed interview) decides every month whether the district takes the state's
development projects. Households that trust the state push to accept, in proportion to the share
of their income that is not coca; households that do not push to refuse, in proportion to their
coca dependence; a household with no coca and no trust takes no side (the mayor of Samugari first
refused the money, then accepted when part of the population wanted the project). Some mayors are
linked to the drug trade and weigh the growers' pressure more; local elections every four years
can change that. A refusing district gets no development money.
"""

from __future__ import annotations

import numpy as np

from vraem.jit import kernel, rule, unsigned, where
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
def coca_dependence(coca_income, legal_income):
    """Share of a household's income that comes from coca (0-1; 0 with no income)."""
    total = coca_income + legal_income
    return where(total > 0.0, coca_income / where(total > 0.0, total, 1.0), 0.0)


@rule
def household_pressure(trust, trust_wanting, dependence):
    """A household's pressure for and against state projects: (for, against), each 0-1.

    Households that trust the state (``mayor.trust_wanting_projects``) want projects, weighted by
    the share of their income that is not coca; the others push against them, weighted by their
    coca dependence (seed interview: the mayors are under pressure from the coca farmers, who do
    not want any projects; another part of the population wanted them). A household that grows no
    coca and does not trust the state adds to neither side.
    """
    wants = trust >= trust_wanting
    return where(wants, 1.0 - dependence, 0.0), where(wants, 0.0, dependence)


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

    The pressure for and against projects is summed over the district's households
    (:func:`household_pressure`), as shares of its households, and the mayor decides on their
    gap (:func:`acceptance_gap`, :func:`acceptance_probability`).
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
        h.coca_income,
        h.legal_income,
        linked,
        u_decide,
        mp.trust_wanting_projects,
        mp.linked_bias,
        mp.pressure_spread,
        accept,
    )
    accepting = accept.tolist()
    for mayor in mayors:
        mayor.accepting = accepting[mayor.district]


@kernel
def _decide(
    district,
    households_per_district,
    trust,
    coca_income,
    legal_income,
    linked,
    u,
    trust_wanting,
    linked_bias,
    spread,
    accept,
):
    """Shares for and against projects in each district, and the mayors' choices (into ``accept``).

    Each household's pressure (:func:`household_pressure`) is found in a pass with no scatter,
    then summed per district in household order.
    """
    n_d = accept.size
    n = district.size
    pro = np.empty(n)
    con = np.empty(n)
    for i in range(n):
        pro[i], con[i] = household_pressure(
            trust[i], trust_wanting, coca_dependence(coca_income[i], legal_income[i])
        )
    share_for = np.zeros(n_d)
    share_against = np.zeros(n_d)
    district = unsigned(district)  # no check for negative indices (jit.unsigned)
    for i in range(n):
        d = district[i]
        share_for[d] += pro[i]
        share_against[d] += con[i]
    for d in range(n_d):
        gap = acceptance_gap(
            share_for[d] / households_per_district[d],
            share_against[d] / households_per_district[d],
            linked[d],
            linked_bias,
        )
        accept[d] = u[d] < acceptance_probability(gap, spread)
