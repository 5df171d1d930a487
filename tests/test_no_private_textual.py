"""No product, test or bench file uses a private name of Textual or Rich: Textual may change those
in any release, and `pyproject.toml` lets it move within its major version.

Flagged, by file and line, in `tui/`, `tests/` and `bench/`:
- an import from a private module (`textual._context`, `textual.widgets._toast`, `rich._loop`) or
  of a private name (`from textual.keys import _normalize_key_list`);
- `x._name` (or `getattr(x, "_name")`) where `_name` is a private attribute that Textual or Rich
  defines (in a class body, or as `self._name` in a method: read from their installed sources)
  and no code of ours defines: our own `self._rows` stays ours; `os._exit` is not Textual's.

And in `tui/` and `tests/`: a class that subclasses a Textual or Rich class (its bases resolved
through the file's imports) and defines a private name that class already has (overriding
`RadioButton._button`, or clobbering `DOMNode._nodes`).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import rich
import textual

ROOT = Path(__file__).resolve().parents[1]
#: Where no private name of Textual or Rich may be used.
SCANNED = ("tui", "tests", "bench")
#: Where no class may redefine one either.
NO_OVERRIDES = ("tui", "tests")
#: Our code: what it defines is ours, whatever Textual calls the same.
OURS = (*SCANNED, "api_client", "local_cache", "central_api")
LIBRARIES = ("textual", "rich")
EXEMPT = frozenset(
    {"tui/ui/textual_private.py", "tests/test_no_private_textual.py", "tests/test_textual_private.py"}
)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def library_module(name: str | None) -> bool:
    return name is not None and name.split(".")[0] in LIBRARIES


def sources(packages: tuple[str, ...]) -> Iterator[Path]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() not in EXEMPT:
                yield path


@cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def class_privates(cls: ast.ClassDef) -> set[str]:
    """Private names a class defines: in its body, and as `self.x`/`cls.x` in its methods (not
    those of the classes nested in it)."""
    names: set[str] = set()
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
    pending: list[ast.AST] = [s for s in cls.body if not isinstance(s, ast.ClassDef)]
    while pending:
        node = pending.pop()
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
        pending.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.ClassDef))
    return {name for name in names if is_private(name)}


def module_classes(tree: ast.Module) -> Iterator[tuple[str, ast.ClassDef]]:
    """The classes of a module (and those nested in them) with their qualified names."""

    def walk(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.ClassDef]]:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                qualname = f"{prefix}{stmt.name}"
                yield qualname, stmt
                yield from walk(stmt.body, f"{qualname}.")

    yield from walk(tree.body, "")


def library_sources() -> Iterator[tuple[str, Path]]:
    """(module name, path) of every source file of Textual and Rich."""
    for library in (textual, rich):
        package = Path(inspect.getfile(library)).parent
        for path in sorted(package.rglob("*.py")):
            parts = path.relative_to(package.parent).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


@cache
def library_classes() -> dict[tuple[str, str], frozenset[str]]:
    """(module, qualified class name) → the private names that class of Textual or Rich defines."""
    return {
        (module, qualname): frozenset(class_privates(cls))
        for module, path in library_sources()
        for qualname, cls in module_classes(parse(path))
    }


@cache
def library_privates() -> frozenset[str]:
    """Every private attribute name of Textual's and Rich's classes, and their private modules."""
    names: set[str] = set()
    for privates in library_classes().values():
        names |= privates
    for module, _ in library_sources():
        names.update(part for part in module.split(".") if is_private(part))
    return frozenset(names)


@cache
def our_privates() -> frozenset[str]:
    """Every private name our own code defines: attributes, functions, classes."""
    names: set[str] = set()
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = parse(path)
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                if isinstance(node, ast.ClassDef):
                    names |= class_privates(node)
    return frozenset(name for name in names if is_private(name))


def imports(tree: ast.Module) -> dict[str, str]:
    """Each name a file's imports bind (at any level) → the dotted path of what it names."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    bound[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def private_uses(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) for each use of a Textual or Rich private name in the file at `path`."""
    tree = parse(path)
    forbidden = library_privates() - our_privates()
    bound = imports(tree)
    other_modules = {name for name, target in bound.items() if not library_module(target)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and library_module(node.module):
            module = node.module or ""
            if any(is_private(part) for part in module.split(".")):
                yield node.lineno, f"from {module} import …"
            for alias in node.names:
                if is_private(alias.name):
                    yield node.lineno, f"from {module} import {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if library_module(alias.name) and any(is_private(p) for p in alias.name.split(".")):
                    yield node.lineno, f"import {alias.name}"
        elif isinstance(node, ast.Attribute) and node.attr in forbidden:
            if not (isinstance(node.value, ast.Name) and node.value.id in other_modules):
                yield node.lineno, f".{node.attr}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in forbidden
        ):
            yield node.lineno, f'{node.func.id}(…, "{node.args[1].value}")'


def resolve(dotted: str) -> object | None:
    """The object a dotted path names (`textual.widgets.RadioButton`), importing what it needs."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            found = getattr(found, part, None)
        return found
    return None


def dotted_name(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Subscript):  # `ModalScreen[None]`
        return dotted_name(expr.value)
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        head = dotted_name(expr.value)
        return None if head is None else f"{head}.{expr.attr}"
    return None


def base_classes(
    cls: ast.ClassDef,
    bound: dict[str, str],
    local: dict[str, ast.ClassDef],
    seen: frozenset[str] = frozenset(),
) -> Iterator[type]:
    """The imported classes `cls` derives from, through the file's own classes."""
    for base in cls.bases:
        dotted = dotted_name(base)
        if dotted is None:
            continue
        root, _, rest = dotted.partition(".")
        if root in bound:
            found = resolve(f"{bound[root]}.{rest}" if rest else bound[root])
            if isinstance(found, type):
                yield found
        elif not rest and root in local and root not in seen:
            yield from base_classes(local[root], bound, local, seen | {root})


def overrides(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) for each private name a class in the file at `path` defines that one of its
    Textual or Rich base classes has."""
    tree = parse(path)
    bound = imports(tree)
    local = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    library = library_classes()
    for cls in local.values():
        ours = class_privates(cls)
        for base in base_classes(cls, bound, local):
            for ancestor in base.__mro__:
                if not library_module(ancestor.__module__):
                    continue
                theirs = library.get((ancestor.__module__, ancestor.__qualname__), frozenset())
                theirs |= {name for name in vars(ancestor) if is_private(name)}
                for clash in sorted(ours & theirs):
                    yield cls.lineno, f"{cls.name}.{clash} is {ancestor.__module__}.{ancestor.__qualname__}'s"


def test_the_private_names_are_read_from_textual() -> None:
    """The names this test looks for are there to find (the sources were read)."""
    names = library_privates()
    assert {"_bindings", "_keymap", "_nodes", "_compositor", "_scroll_update", "_toast", "_button"} <= names


def test_no_file_uses_a_private_name_of_textual_or_rich() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sources(SCANNED)
        for line, what in private_uses(path)
    ]
    assert not found, "Textual/Rich private names used:\n" + "\n".join(found)


def test_no_class_redefines_a_private_name_of_its_textual_base() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sources(NO_OVERRIDES)
        for line, what in overrides(path)
    ]
    assert not found, "private names of Textual/Rich classes redefined:\n" + "\n".join(found)
