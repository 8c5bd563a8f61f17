"""The portal and the example are hosts like any other: they use the public face only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import flask_altitudeangel
from tests.services import ROOT

HOSTS = [ROOT / "app.py", ROOT / "wsgi.py", *sorted((ROOT / "portal").rglob("*.py"))]
HOSTS += sorted((ROOT / "examples").rglob("*.py"))
PUBLIC_MODULES = {"flask_altitudeangel", "flask_altitudeangel.signals"}
PUBLIC_MODULES |= {
    "flask_altitudeangel.errors",
    "flask_altitudeangel.records",
    "flask_altitudeangel.storage",
}


def extension_imports(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (module, name) for each name a file imports from the extension."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "flask_altitudeangel"
        ):
            for alias in node.names:
                yield node.module or "", alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("flask_altitudeangel"):
                    yield alias.name, ""


def test_hosts_import_only_the_extensions_public_names() -> None:
    reached_in = [
        f"{path.relative_to(ROOT)}: {module} {name}".rstrip()
        for path in HOSTS
        for module, name in extension_imports(path)
        if module not in PUBLIC_MODULES
        or (module == "flask_altitudeangel" and name not in flask_altitudeangel.__all__)
        or name.startswith("_")
    ]
    assert reached_in == []
    assert any(extension_imports(ROOT / "portal" / "trace" / "steps.py"))  # the scan sees imports


def test_only_the_token_package_names_a_logins_token_keys() -> None:
    # Each login's keys are "<prefix>login:{<id>}:<part>"; building one elsewhere would be a
    # second owner of the tokens (the portal's trace keeps its own key beside them).
    builders = sorted(
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "flask_altitudeangel").rglob("*.py"), *HOSTS]
        if "sandbox" not in path.parts and "login:{" in path.read_text()
    )
    assert builders == ["flask_altitudeangel/_tokens/store.py", "portal/trace/store.py"]
