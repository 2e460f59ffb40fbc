"""The catalogue: requirements, profiles and scenarios, as validated models loaded from YAML."""

from bench.catalogue.loader import Catalogue, CatalogueError, load_catalogue
from bench.catalogue.models import Expectation, Requirement, Scenario, Step

__all__ = ["Catalogue", "CatalogueError", "Expectation", "Requirement", "Scenario", "Step", "load_catalogue"]
