"""Resolve model references and load models with eager attention."""
from reportgen.models.load import LoadedModel, load_model, resolve_location

__all__ = ["LoadedModel", "load_model", "resolve_location"]
