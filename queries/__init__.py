"""SPARQL queries shipped with kg (package data, read with importlib.resources)."""
