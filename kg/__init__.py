"""kg: turn space-mission dossiers into one linked RDF knowledge graph.

    >>> from kg import build, write_outputs
    >>> result = build()                       # the bundled seeds
    >>> write_outputs(result, "out")           # kg.ttl, kg.nq, kg.jsonld, report.json
"""

from .build import BuildResult, build, bundled_seeds, find_dossiers, write_outputs
from .dossier import Dossier, parse, read
from .errors import DossierError, KgError, Problem
from .export import FORMATS, get_format, write
from .record import Record, extract
from .vocab import DEFAULT_BASE, KG

__all__ = [
    "DEFAULT_BASE",
    "FORMATS",
    "KG",
    "BuildResult",
    "Dossier",
    "DossierError",
    "KgError",
    "Problem",
    "Record",
    "build",
    "bundled_seeds",
    "extract",
    "find_dossiers",
    "get_format",
    "parse",
    "read",
    "write",
    "write_outputs",
]
