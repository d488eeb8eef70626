"""The command is `bibsmith`, found by its name on the PATH as a user runs it, beside CTAN's BibTool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import require_tool

BIN = Path(sys.executable).parent  # the venv's bin folder, where `pip install` puts console scripts


def _by_name(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(list(argv), capture_output=True, text=True, env=env, timeout=120)


def test_the_installed_command_is_bibsmith_and_no_bibtool_is_installed():
    assert (BIN / "bibsmith").is_file()
    assert not (BIN / "bibtool").exists()


def test_bibsmith_by_name_is_this_project():
    done = _by_name("bibsmith", "--help")
    assert done.returncode == 0, done.stderr
    assert "Turn a researcher's papers" in done.stdout
    for command in ("convert", "export", "cv", "styles", "check"):
        assert command in done.stdout


def test_python_dash_m_bibsmith():
    done = subprocess.run([sys.executable, "-m", "bibsmith", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Turn a researcher's papers" in done.stdout


def test_bibtool_on_the_path_is_ctan_bibtool_not_us():
    """With CTAN's BibTool installed (CI installs it), `bibtool` is that program and `bibsmith` is still ours."""
    found = require_tool("bibtool")
    assert Path(found).parent != BIN
    other = _by_name("bibtool", "-h")
    assert "BibTool" in other.stdout + other.stderr and "Gerd Neugebauer" in other.stdout + other.stderr
    ours = _by_name("bibsmith", "--help")
    assert ours.returncode == 0 and "Turn a researcher's papers" in ours.stdout
