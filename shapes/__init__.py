"""SHACL shapes shipped with kg (package data, read with importlib.resources)."""
