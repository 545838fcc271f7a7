"""The five agent types: farmer households, clans, cartels, security forces and mayors."""

from model.agents.cartel import Cartel
from model.agents.clan import Clan
from model.agents.farmer import Farmer, HouseholdType, ProgrammeStage
from model.agents.mayor import Mayor
from model.agents.police import SecurityUnit

__all__ = ["Cartel", "Clan", "Farmer", "HouseholdType", "Mayor", "ProgrammeStage", "SecurityUnit"]
