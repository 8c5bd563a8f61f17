"""The extension installs with pip into a fresh virtualenv, and the app image holds it without
its sandbox."""

from __future__ import annotations

import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from tests.services import ROOT

PACKAGE = ROOT / "flask_altitudeangel"


@pytest.mark.timeout(600)
def test_pip_install_gives_a_working_extension_and_its_pytest_plugin(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    # Copy what the distribution is built from, so nothing of this checkout is importable.
    source = tmp_path / "source"
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "docs/extension.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    install = subprocess.run(  # noqa: S603 - fixed argument list
        [python, "-m", "pip", "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    probe = subprocess.run(  # noqa: S603 - fixed argument list
        [python, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == ["AltitudeAngel", "[]", "False", "error.html"]


PROBE = """
import importlib.util
from importlib.metadata import entry_points
from importlib.resources import files
import flask_altitudeangel
print(flask_altitudeangel.AltitudeAngel.__name__)
print([e.name for e in entry_points(group="pytest11") if e.value.startswith("flask_alt")])
print(importlib.util.find_spec("altitudeangel_sandbox") is not None)
print((files("flask_altitudeangel") / "templates" / "altitudeangel" / "error.html").name)
"""


def test_the_app_image_copies_the_extension_and_no_sandbox() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    app_stage = dockerfile.split("AS app", 1)[1]
    copies = [line for line in app_stage.splitlines() if line.startswith("COPY")]
    assert any(re.search(r"\sflask_altitudeangel\s", line) for line in copies)
    assert not any("sandbox" in line for line in copies)
