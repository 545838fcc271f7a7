"""vraem: an agent-based model of the coca and cocaine economy of Peru's VRAEM valley.

Public API::

    from vraem import VraemModel, load_scenario, run_once, run_scenarios, ModelParams
    from vraem import outcomes   # the model as one function: levers and uncertainties in, outcomes out
"""

from vraem.params import ModelParams
from vraem.policy import Policy, PolicyPhase
from vraem.runner import replicate_seed, run_once, run_scenarios
from vraem.scalar_outcomes import OUTCOME_NAMES, OUTCOMES, outcomes
from vraem.scenario import Scenario, ScenarioError, load_scenario
from vraem.simulation import VraemModel

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
