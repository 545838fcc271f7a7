"""vraem: an agent-based model of the coca and cocaine economy of Peru's VRAEM valley.

Public API::

    from model import VraemModel, load_scenario, run_once, run_scenarios, ModelParams
"""

from model.params import ModelParams
from model.policy import Policy, PolicyPhase
from model.runner import replicate_seed, run_once, run_scenarios
from model.scenario import Scenario, ScenarioError, load_scenario
from model.vraem import VraemModel

__all__ = [
    "ModelParams",
    "Policy",
    "PolicyPhase",
    "Scenario",
    "ScenarioError",
    "VraemModel",
    "load_scenario",
    "replicate_seed",
    "run_once",
    "run_scenarios",
]
