"""The bundled seed dossiers (package data, so an installed kg can build them)."""
