"""reportgen: static sites that explain transformer attention."""

__version__ = "0.1.0"
