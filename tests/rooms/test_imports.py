"""Import boundaries ruff cannot hold alone.

Ruff's banned-api list (pyproject.toml) keeps I/O, clocks and randomness out of rooms/ and
moderation/, but per-file-ignores lift a whole rule code, not one name: server/, tests/, bench/
and deploy/ may use the I/O modules, so they are not checked for bleach either, and rooms/text.py
(bleach's one door) is not checked for the I/O modules. This test checks both, on the same list.
"""

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLEACH_DOOR = "rooms/text.py"
RULES_PACKAGES = ("rooms", "moderation")


def banned_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"])


def python_files() -> Iterator[Path]:
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if not any(p.startswith(".") or p in ("build", "node_modules") for p in parts):
            yield path


def imported(source: str) -> set[str]:
    """Every dotted name the source imports: `import a.b` gives a.b, `from a import b` gives a
    and a.b, and `importlib.import_module("a")` or `__import__("a")` give a."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
                names.add(str(first.value))
    return names


def uses(names: set[str], module: str) -> bool:
    return any(n == module or n.startswith(f"{module}.") for n in names)


def test_the_import_finder_sees_every_form() -> None:
    forms = ["import bleach", "import bleach.linkifier", "from bleach import clean",
             "from bleach.linkifier import Linker", "def f():\n    import bleach",
             "importlib.import_module('bleach')", "__import__('bleach.sanitizer')"]  # fmt: skip
    for source in forms:
        assert uses(imported(source), "bleach"), source
    assert not uses(imported("import bleachers\nfrom rooms import bleach_free"), "bleach")
    assert not uses(imported("from datetime import datetime"), "datetime.datetime.now")


def test_bleach_is_imported_by_rooms_text_only() -> None:
    importers = {
        path.relative_to(ROOT).as_posix()
        for path in python_files()
        if uses(imported(path.read_text()), "bleach")
    }
    assert importers == {BLEACH_DOOR}


def test_the_rules_packages_import_nothing_banned() -> None:
    banned = banned_names()
    assert {"os", "pathlib", "secrets", "asyncio", "redis", "bleach"} <= set(banned)
    checked = 0
    for package in RULES_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names = imported(path.read_text())
            where = path.relative_to(ROOT).as_posix()
            allowed = {"bleach"} if where == BLEACH_DOOR else set()
            assert [b for b in banned if b not in allowed and uses(names, b)] == [], where
            checked += 1
    assert checked >= 20  # the walk found the packages
