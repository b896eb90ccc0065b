"""Save and load fitted models without pickle: one file, nothing from it runs."""

from ..exceptions import ModelVersionWarning, UntrustedModelError
from ._files import load, save

__all__ = ["ModelVersionWarning", "UntrustedModelError", "load", "save"]
