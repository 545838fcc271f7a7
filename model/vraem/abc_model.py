"""pyabc's view of a calibration candidate: run, score and stop early (:class:`EarlyRejection`).

Kept apart from :mod:`vraem.calibration` so that reading a config never imports pyabc.
"""

from __future__ import annotations

import pyabc

from vraem.calibration import PatternDistance, Simulator, pyabc_name


class EarlyRejection(pyabc.IntegratedModel):
    """A candidate's scenario runs, stopped as soon as its distance cannot fall under epsilon.

    A candidate runs up to three scenarios (the status quo, then the patterns' own scenarios).
    After each, :meth:`PatternDistance.lower_bound` counts the targets still unknown as perfect
    fits; if even that exceeds the generation's epsilon, the candidate is rejected without the
    remaining runs. The test is exact (a candidate is rejected only if its full distance would
    reject it), so the posterior is the one the full runs give; only rejected candidates are
    cheaper. Accepted candidates carry all their statistics, as with pyabc's plain models.

    Args:
        simulator: The calibration's model evaluation.
        distance: The calibration's distance.
        observed: The targets (observed or synthetic).
    """

    def __init__(self, simulator: Simulator, distance: PatternDistance, observed: dict[str, float]):
        super().__init__(name="vraem")
        self.simulator = simulator
        self.distance = distance
        self.observed = dict(observed)

    def integrated_simulate(self, pars, eps: float) -> pyabc.model.ModelResult:
        """Run the candidate's scenarios in order, stopping once rejection is certain."""
        values = {k: float(pars[pyabc_name(k)]) for k in self.simulator.keys}
        stats: dict[str, float] = {}
        for stats in self.simulator.stages(values):
            if self.distance.lower_bound(stats, self.observed) > eps:
                return pyabc.model.ModelResult(accepted=False)
        d = self.distance(stats, self.observed)
        return pyabc.model.ModelResult(sum_stat=stats, distance=d, accepted=d <= eps)
