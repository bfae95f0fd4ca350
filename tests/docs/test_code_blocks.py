"""Every code block of the README and the docs is checked, so a documented line cannot break silently.

The rules (which blocks run, how, and the markers that skip one or expect an error) are in
:mod:`tests.docs.blocks`. The fast tests check every block's kind and syntax and parse every
``limelight`` command with the command's own parser; the slow tests run each page's blocks on the
demo models, the way a reader would.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import limelight.errors
from limelight.cli import build_parser
from tests.docs.blocks import KINDS, PAGES, Block, blocks, console_steps

ALL = [block for page in PAGES for block in blocks(page)]
TIMEOUT_S = 900


def _ids(block: Block) -> str:
    return block.where


def _commands(block: Block) -> list[list[str]]:
    """The ``limelight ...`` commands of a shell or console block, as argument lists (the program name dropped)."""
    script = "\n".join(step for step, _ in console_steps(block)) if block.kind == "console" else block.body
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        commands.append([])
        for token in shlex.shlex(line, posix=True, punctuation_chars=";&|<>"):
            if set(token) <= set(";&|<>"):
                commands.append([])
            else:
                commands[-1].append(token)
    return [command[1:] for command in commands if command and command[0] == "limelight"]


def _shell_environment() -> dict[str, str]:
    """The environment shell blocks run in: this interpreter's ``limelight`` first on PATH, no downloads, a wide terminal."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "HF_HUB_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "COLUMNS": "130",
        "TERM": "xterm",  # with FORCE_COLOR: the terminal view the pages show, though stdout is a pipe
        "FORCE_COLOR": "1",
        "NO_COLOR": "1",  # only bold/underline escapes remain; _shell drops them
    }


def _shell(script: str, cwd: Path, where: str) -> str:
    """Run ``script`` with bash in ``cwd``; fail with its output unless it exits 0; returns standard output."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=_shell_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        pytest.fail(f"{where}: exit status {done.returncode}\n$ {script}\n{done.stdout}\n{done.stderr}")
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)


def _shown_in(expected: list[str], output: str) -> bool:
    """Whether the documented lines appear in ``output`` in order (other lines may come between them)."""
    remaining = iter(line.rstrip() for line in output.splitlines())
    return all(any(line == wanted for line in remaining) for wanted in (e.rstrip() for e in expected if e.strip()))


@pytest.mark.parametrize("block", ALL, ids=_ids)
def test_every_block_says_what_it_is(block: Block) -> None:
    assert block.kind in KINDS, f"{block.where}: give the fence an info string from {KINDS} (got {block.kind!r})"
    if block.action == "skip":
        assert block.argument, f"{block.where}: a skipped block needs a reason: <!-- doctest: skip REASON -->"
    if block.action == "raises":
        assert block.kind == "python", f"{block.where}: only python blocks can expect an error"
        error = getattr(limelight.errors, block.argument, None)
        assert isinstance(error, type) and issubclass(error, limelight.errors.LimelightError), (
            f"{block.where}: {block.argument!r} is not an error of limelight.errors"
        )


@pytest.mark.parametrize("block", [b for b in ALL if b.kind == "python"], ids=_ids)
def test_python_blocks_compile(block: Block) -> None:
    compile("\n" * block.line + block.body, block.page, "exec")


COMMAND_BLOCKS = [b for b in ALL if b.kind in ("bash", "console") and _commands(b)]


@pytest.mark.parametrize("block", COMMAND_BLOCKS, ids=_ids)
def test_limelight_commands_parse(block: Block, capsys: pytest.CaptureFixture[str]) -> None:
    for arguments in _commands(block):
        try:
            build_parser().parse_args(arguments)
        except SystemExit as stop:
            pytest.fail(
                f"{block.where}: `limelight {shlex.join(arguments)}` is refused by the parser (exit {stop.code}): {capsys.readouterr().err}"
            )


def test_the_rules_see_the_blocks() -> None:
    """The parser finds the blocks the pages are known to have (a broken fence pattern would check nothing)."""
    kinds = {page: [b.kind for b in blocks(page)] for page in PAGES}
    assert kinds["README.md"][:3] == ["bash", "bash", "python"]
    assert "console" in kinds["docs/tutorial.md"] and "text" in kinds["docs/tutorial.md"]
    assert kinds["docs/architecture.md"] == ["text"]
    assert all(b.action == "skip" for b in blocks("benchmarks/README.md") if b.kind != "text")  # benchmarks run for minutes
    assert _commands(Block("x", 1, "bash", 'a && limelight explain "a b" --json | tee x; limelight compare t\n')) == [
        ["explain", "a b", "--json"],
        ["compare", "t"],
    ]


RUNNABLE_PAGES = [page for page in PAGES if any(b.kind != "text" and b.action != "skip" for b in blocks(page))]


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_page_runs(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the page's blocks in order: python in one namespace, shell through the ``limelight`` command."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in blocks(page):
        if block.kind == "text" or block.action == "skip":
            continue
        if block.kind == "python":
            code = compile("\n" * (block.line) + block.body, block.page, "exec")  # tracebacks give the page's line numbers
            if block.action == "raises":
                with pytest.raises(getattr(limelight.errors, block.argument)):
                    exec(code, namespace)
            else:
                exec(code, namespace)
        elif block.kind == "bash":
            _shell(block.body, tmp_path, block.where)
        else:
            for command, shown in console_steps(block):
                output = _shell(command, tmp_path, block.where)
                diff = "\n".join(difflib.unified_diff(shown, output.splitlines(), "documented", "printed", lineterm=""))
                assert _shown_in(shown, output), f"{block.where}: `{command}` no longer prints what the page shows:\n{diff}"
