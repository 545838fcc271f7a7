"""Farmers: replanting after eradication (docs/odd.md, section 7.7).

Households whose coca the security forces destroyed (:func:`vraem.agents.police.eradicate`)
replant all of it with a probability (seed interview: about half of eradicated fields are
replanted; far less under a no-coca agreement), a share of it in a field opened in remote forest
(the balloon effect); the rest goes fallow. Forced eradication outside the programme costs trust.
"""

from __future__ import annotations

import numpy as np

from vraem.agents.farmer import HOME, REMOTE
from vraem.economy import rationed_share
from vraem.jit import clip, kernel, rule, where


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
def trust_after_eradication(trust, eradicated_share, in_programme, loss):
    """Trust in the state after part of a household's coca was destroyed.

    Forced eradication outside a programme costs trust (seed interview: confidence in the state
    must be built first); inside a programme the household expected it.
    """
    return clip(trust - where(in_programme, 0.0, loss * eradicated_share), 0.0, 1.0)


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
