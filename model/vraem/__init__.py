"""vraem: an agent-based model of the coca and cocaine economy of Peru's VRAEM valley.

Public API::

    from vraem import VraemModel, load_scenario, run_once, run_scenarios, ModelParams
    from vraem import outcomes   # the model as one function: levers and uncertainties in, outcomes out

The names are imported on first use (PEP 562), so ``import vraem.scenario`` or ``vraem validate``
does not load the simulation (Mesa, pandas, numba): checking a file costs what checking needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vraem.lazy import lazy_exports

_WHERE = {
    "ModelParams": "vraem.params",
    "Policy": "vraem.policy",
    "PolicyPhase": "vraem.policy",
    "replicate_seed": "vraem.runner",
    "run_once": "vraem.runner",
    "run_scenarios": "vraem.runner",
    "OUTCOME_NAMES": "vraem.scalar_outcomes",
    "OUTCOMES": "vraem.scalar_outcomes",
    "outcomes": "vraem.scalar_outcomes",
    "Scenario": "vraem.scenario",
    "ScenarioError": "vraem.scenario",
    "load_scenario": "vraem.scenario",
    "VraemModel": "vraem.simulation",
}

__all__ = [
    "OUTCOMES",
    "OUTCOME_NAMES",
    "ModelParams",
    "Policy",
    "PolicyPhase",
    "Scenario",
    "ScenarioError",
    "VraemModel",
    "load_scenario",
    "outcomes",
    "replicate_seed",
    "run_once",
    "run_scenarios",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from vraem.params import ModelParams
    from vraem.policy import Policy, PolicyPhase
    from vraem.runner import replicate_seed, run_once, run_scenarios
    from vraem.scalar_outcomes import OUTCOME_NAMES, OUTCOMES, outcomes
    from vraem.scenario import Scenario, ScenarioError, load_scenario
    from vraem.simulation import VraemModel


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
