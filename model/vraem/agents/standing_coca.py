"""Farmers: standing coca (docs/odd.md, section 7.17; switch ``mechanisms.standing_coca``).

Surveys count standing coca, harvested or not (UNODC/DEVIDA survey method). With the switch on, a
household that wants less coca stops harvesting its mature coca instead of uprooting it, takes it
back into harvest when it wants more, and uproots what stands at a constant hazard. The land
decision (:mod:`vraem.agents.land`) applies these rules; the harvest
(:func:`vraem.agents.harvest.harvested_share`) leaves the standing coca unpicked.
"""

from __future__ import annotations

from vraem.jit import maximum, minimum, rule, where


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
