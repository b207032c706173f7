"""The README cannot drift: its command reference is the real --help, its commands exist."""

from __future__ import annotations

import os
import re
from pathlib import Path

from click.testing import CliRunner

from kg.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"<!-- help:(?P<cmd>[\w-]+) -->\n.*?<!-- /help -->", re.DOTALL)


def _help(cmd: str) -> str:
    result = CliRunner().invoke(main, [cmd, "--help"], terminal_width=100,
                                prog_name="kg")
    assert result.exit_code == 0
    return f"<!-- help:{cmd} -->\n```text\n$ kg {cmd} --help\n{result.output}```\n<!-- /help -->"


def test_command_reference_is_the_real_help() -> None:
    text = README.read_text("utf-8")
    fresh = BLOCK.sub(lambda m: _help(m.group("cmd")), text)
    if os.environ.get("KG_UPDATE_README"):
        README.write_text(fresh, "utf-8")
    assert fresh == text, "README help blocks are stale: run KG_UPDATE_README=1 pytest " \
        "tests/test_readme.py"


def test_every_command_is_documented() -> None:
    documented = {m.group("cmd") for m in BLOCK.finditer(README.read_text("utf-8"))}
    assert set(main.commands) <= documented


def test_readme_opens_with_the_two_commands() -> None:
    lines = README.read_text("utf-8").splitlines()
    block = lines[lines.index("```sh") + 1: lines.index("```sh") + 3]
    assert block[0].startswith("pip install . && kg build")
    assert block[1].startswith("pip install '.[test]' && pytest")
    ci = (README.parent / ".ci" / "run").read_text("utf-8")
    assert "pip install -q '.[test]' && pytest" in ci
