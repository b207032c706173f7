"""Data files shipped with kg: the ontology and the JSON-LD context."""
