"""The five agent types: farmer households, clans, cartels, security forces and mayors."""

from vraem.agents.cartel import Cartel
from vraem.agents.clan import Clan
from vraem.agents.farmer import Farmer, HouseholdType, ProgrammeStage
from vraem.agents.mayor import Mayor
from vraem.agents.police import SecurityUnit

__all__ = ["Cartel", "Clan", "Farmer", "HouseholdType", "Mayor", "ProgrammeStage", "SecurityUnit"]
