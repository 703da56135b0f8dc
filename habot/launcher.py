"""The `habot` program: known third-party warnings silenced by exact category and module,
then the command line. Runs before anything imports asyncssh, so no user sees that noise."""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnownWarning:
    """One third-party warning habot does not act on, and why (pytest's `filterwarnings`
    in pyproject.toml ignores exactly the same ones; a test keeps the two lists equal)."""

    message: str  # the start of the warning's text
    category: str  # dotted path of the warning class
    module: str  # regular expression over the module that triggers it
    why: str

    def pytest_filter(self) -> str:
        return f"ignore:{self.message}:{self.category}:{self.module}"


KNOWN = (
    KnownWarning(
        message="DSA is deprecated",
        category="cryptography.utils.CryptographyDeprecationWarning",
        module=r"asyncssh\.crypto\.(misc|dsa)",
        why="asyncssh names cryptography's DSA types at import (cryptography 51 deprecates "
        "them); habot never uses DSA keys and verifies host keys of other types",
    ),
)


def install() -> None:
    for known in KNOWN:
        path, _, name = known.category.rpartition(".")
        category = getattr(importlib.import_module(path), name)
        warnings.filterwarnings("ignore", known.message, category, known.module)


def main() -> int:
    install()
    from habot.cli import main as cli_main  # asyncssh is imported here, after the filters

    return cli_main()
