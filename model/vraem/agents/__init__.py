"""The five agent types: farmer households, clans, cartels, security forces and mayors.

One module per agent type; the farm households' rules are split further into one module per ODD
submodel (``expectations``, ``coca_wanted``, ``land``, ``legal_crops``, ``harvest``, ``replanting``,
``maturation``, ``soils``, ``income``, ``standing_coca``, ``rising_yields``: docs/odd.md, section 7),
with their state in ``farmer``.
"""

from vraem.agents.cartel import Cartel
from vraem.agents.clan import Clan
from vraem.agents.farmer import Farmer, HouseholdType, ProgrammeStage
from vraem.agents.mayor import Mayor
from vraem.agents.police import SecurityUnit

__all__ = ["Cartel", "Clan", "Farmer", "HouseholdType", "Mayor", "ProgrammeStage", "SecurityUnit"]
