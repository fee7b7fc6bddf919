"""Importers: turn public benchmark files into reportgen manifests (``reportgen import ...``)."""
