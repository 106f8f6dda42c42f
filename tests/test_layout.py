"""The package layout holds: arrows point one way between packages, and the README's code map is the tree.

Every import in every module counts, those inside functions too (commands
import the domain when they run), so a shortcut across the layers fails here
rather than in a newcomer's head.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

SDESK = REPO / "sdesk"
FOUNDATION = {"deadline", "errors", "output", "progress", "terminal", "words", "__version__"}
# Each package and what it may import besides the foundation modules, bottom up (as sdesk/__init__.py says).
ALLOWED = {
    "formats": set(),
    "calendar": {"formats"},
    "tickets": {"formats"},
    "policy": {"formats", "calendar", "tickets"},
    "clocks": {"formats", "calendar", "tickets", "policy"},
    "service": {"formats", "calendar", "tickets", "policy"},
    "storage": {"formats", "calendar", "tickets", "policy", "service"},
    "mail": {"formats", "calendar", "tickets", "policy", "clocks", "service", "storage"},
    "website": {"formats", "calendar", "tickets", "policy", "clocks", "service", "storage"},
    "actions": {"formats", "calendar", "tickets", "policy", "clocks", "service", "storage", "mail", "website"},
    "portal": {
        "formats",
        "calendar",
        "tickets",
        "policy",
        "clocks",
        "service",
        "storage",
        "mail",
        "website",
        "actions",
    },
}


def modules() -> list[Path]:
    return sorted(path for path in SDESK.rglob("*.py") if "__pycache__" not in path.parts)


def package_of(path: Path) -> str:
    relative = path.relative_to(SDESK)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_packages(path: Path) -> set[str]:
    """The sdesk packages (or foundation modules) a module imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "sdesk":
                names = [f"sdesk.{alias.name}" for alias in node.names]
            elif node.module.startswith("sdesk."):
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("sdesk.")]
        found |= {name.split(".")[1] for name in names}
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(REPO)))
def test_a_module_imports_only_what_its_package_may(path: Path) -> None:
    package = package_of(path)
    imported = imported_packages(path) - {package}
    if package in FOUNDATION or package in ("__init__", "__main__"):
        allowed = FOUNDATION | ({"cli"} if package == "__main__" else set())
    elif package == "cli":
        return  # the top: it may import everything
    else:
        allowed = FOUNDATION | ALLOWED[package]
    assert imported <= allowed, f"{path.relative_to(REPO)} imports {sorted(imported - allowed)}"


def test_every_package_is_placed_and_says_what_it_may_import() -> None:
    packages = {path.name for path in SDESK.iterdir() if (path / "__init__.py").is_file()}
    assert packages == set(ALLOWED) | {"cli"}
    for package in ALLOWED:
        docstring = ast.get_docstring(ast.parse((SDESK / package / "__init__.py").read_text(encoding="utf-8")))
        assert docstring and "May import:" in docstring, package


def test_the_readme_code_map_is_the_tree() -> None:
    """Each row of the map names a package and, in it, every module: nothing missing, nothing that is not there."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Code map", 1)[1].split("\n## ", 1)[0]
    named = set()
    for row in re.findall(r"^\| `(sdesk/[\w/]*)` \|(.*)\|$", section, re.MULTILINE):
        folder, text = row
        named |= {f"{folder}{module}" for module in re.findall(r"`(\w+\.py)`", text)}
    tree = {f"sdesk/{path.relative_to(SDESK).as_posix()}" for path in modules() if path.name != "__init__.py"}
    assert named == tree, (sorted(tree - named), sorted(named - tree))
