"""One error type for everything a user can get wrong, carrying file and line."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_DOSSIER_ERRORS = 1
EXIT_USAGE = 2


class KgError(Exception):
    """A user-facing error: one line naming the file and line, never a traceback."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = self.file or ""
        if self.file and self.line:
            where = f"{self.file}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


class DossierError(KgError):
    """A dossier that cannot be read at all (the other dossiers still go through)."""

    exit_code = EXIT_DOSSIER_ERRORS


@dataclass(frozen=True)
class Problem:
    """A finding about a dossier: an error, a warning or a line not understood."""

    severity: str  # "error" | "warning" | "not-understood"
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"severity": self.severity, "file": self.file, "line": self.line,
                "message": self.message}
