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
from mesa.discrete_space import CellAgent


def mayor_accepts(share_for, share_against, linked, linked_bias):
    """Whether a mayor accepts state projects: the louder side wins, linked mayors lean to growers."""
    return acceptance_gap(share_for, share_against, linked, linked_bias) > 0


def acceptance_gap(share_for, share_against, linked, linked_bias):
    """Share wanting projects minus the (linked-weighted) share against them."""
    return share_for - share_against * (1.0 + np.where(linked, linked_bias, 0.0))


def acceptance_probability(gap, spread):
    """Chance that a mayor accepts this month: logistic in the pressure gap.

    Samugari's mayor first refused, then accepted when part of the population wanted the project
    (seed interview); the spread is the uncertainty with which a mayor hears the district.
    """
    return 1.0 / (1.0 + np.exp(-gap / spread))


class Mayor(CellAgent):
    """The mayor of one district, seated in the district town."""

    def __init__(self, model, district: int, cell, linked: bool) -> None:
        super().__init__(model)
        self.district = district
        self.cell = cell
        self.linked = linked
        self.accepting = False


def decide(model) -> None:
    """Every mayor weighs the district's pressure; elections may change linked mayors."""
    p, h = model.params, model.households
    mp = p.mayor
    n_d = p.landscape.n_districts
    u = model.streams.elections.random(n_d)
    if model.month > 0 and model.month % mp.election_interval_months == 0:
        for mayor in model.mayors:
            mayor.linked = bool(u[mayor.district] < mp.p_linked)
        model.month_flows["elections"] += 1
    wants = (h.trust >= mp.trust_wanting_projects) | (h.coca_ha() <= 0)
    total_income = h.coca_income + h.legal_income
    dependent = (h.coca_income > mp.coca_dependence_share * total_income) & ~wants
    count = np.maximum(np.bincount(h.district, minlength=n_d), 1)
    share_for = np.bincount(h.district, weights=wants, minlength=n_d) / count
    share_against = np.bincount(h.district, weights=dependent, minlength=n_d) / count
    linked = np.array([m.linked for m in model.mayors])
    u_decide = model.streams.mayor_decisions.random(n_d)
    gap = acceptance_gap(share_for, share_against, linked, mp.linked_bias)
    accept = u_decide < acceptance_probability(gap, mp.pressure_spread)
    for mayor in model.mayors:
        mayor.accepting = bool(accept[mayor.district])
    model.district_accepting[:] = accept
