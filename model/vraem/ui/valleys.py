"""The model the classroom app runs: :class:`ClassroomModel`, built from the app's settings.

Kept apart from :mod:`vraem.ui.classroom` (settings, file loading and checking) so that loading
and refusing a student's file does not import the simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from vraem.landscape import load_rasters
from vraem.rng import replicate_seed
from vraem.scenario import Scenario
from vraem.simulation import VraemModel
from vraem.ui.classroom import (
    SPREAD_VALLEYS,
    ClassroomRun,
    UISettings,
    build_scenario,
    lever_defaults,
)


def run_valleys(
    settings: UISettings, n: int = SPREAD_VALLEYS, progress: Callable[[int], bool] | None = None
) -> list[np.ndarray]:
    """Coca by month in replicates 0..n-1 of the settings (the seeds of ``vraem run``), to the end.

    ``progress(k)`` is called before valley ``k``; returning False stops early.
    """
    out = []
    for k in range(n):
        if progress is not None and progress(k) is False:
            break
        m = ClassroomModel(replace(settings, replicate=k))
        m.run()
        out.append(np.asarray(m.datacollector.model_vars["coca_ha"], float))
    return out


# ---------------------------------------------------------------------------------------------
# The model the app runs


class ClassroomModel(VraemModel):
    """A :class:`~vraem.simulation.VraemModel` built from UI settings; never fails to build.

    ``settings`` are the settings themselves, or a callable returning the current ones (the app
    passes a reader of the session's panel state); ``n_households`` and ``replicate``, if given,
    replace theirs. The run's seed is ``replicate_seed(scenario.seed, replicate)``, as for
    replicate ``replicate`` of ``vraem run``, and it runs the scenario's ``months``.

    Attributes:
        classroom: The settings, the scenario that runs and any error (see :class:`ClassroomRun`).

    """

    def __init__(
        self,
        settings: UISettings | Callable[[], UISettings] | None = None,
        n_households: int | None = None,
        replicate: int | None = None,
    ) -> None:
        current = settings() if callable(settings) else settings
        current = current or UISettings()
        if n_households is not None:
            current = replace(current, n_households=int(n_households))
        if replicate is not None:
            current = replace(current, replicate=int(replicate))
        built, defaults = build_scenario(current)
        error = built.error
        scenario = built.scenario
        if scenario is None:  # run the file as written, else the default scenario
            fallback = replace(UISettings(), n_households=current.n_households)
            for candidate in (current.with_scenario(current.scenario), fallback):
                scenario = build_scenario(candidate)[0].scenario
                if scenario is not None:
                    break
        if scenario is None:  # pragma: no cover - only if the shipped scenarios are all broken
            scenario = Scenario(name="no policy")
        super().__init__(
            params=scenario.parameters,
            policy=scenario.policy,
            seed=replicate_seed(scenario.seed, current.replicate),
            months=scenario.months,
            rasters=load_rasters(scenario.landscape_file) if scenario.landscape_file else None,
        )
        coca = self.landscape.layer("coca_ha")
        grown = coca[coca > 0]
        self.classroom = ClassroomRun(
            settings=current,
            scenario=scenario,
            defaults=defaults or lever_defaults(scenario),
            error=error,
            coca_scale_ha=float(np.quantile(grown, 0.95)) if grown.size else 1.0,
            legal_scale_ha=_legal_scale(self),
            notes=built.notes,
            as_written=built.scenario is None and defaults is not None,
        )


def _legal_scale(m: VraemModel) -> float:
    legal = legal_ha_by_cell(m)
    grown = legal[legal > 0]
    return float(np.quantile(grown, 0.95)) if grown.size else 1.0


def legal_ha_by_cell(m: VraemModel) -> np.ndarray:
    """Legal crops (food, cacao, coffee) per cell, ha (flat)."""
    h = m.households
    return np.bincount(h.cell, weights=h.legal_ha(), minlength=m.landscape.n_cells)
