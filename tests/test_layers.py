"""The layering of ARCHITECTURE.md, enforced: every module's imports (parsed with ``ast``, lazy
imports inside functions included) are checked against the rules below, and the checker itself is
shown to catch each kind of forbidden import in a throw-away tree.

- ``go_engine`` (the game) imports only numpy, numba, sgfmill and the standard library;
- ``selfplay`` and ``trainer`` never import each other, and take from ``alphazero`` only its contracts;
- the contracts (``alphazero/config/*``, the modules of ARCHITECTURE.md's contracts section, the
  typed messages between roles) import no role (``selfplay``, ``trainer``) and no product code;
- user-facing code (the CLI, GTP, the arena, the training loop) may import everything.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("go_engine", "selfplay", "trainer", "alphazero")
GAME_MAY_IMPORT = frozenset({"numpy", "numba", "sgfmill", "go_engine"})
ROLES = ("selfplay", "trainer")


def contract_modules(architecture: str) -> frozenset[str]:
    """Dotted names of the modules the bullets of ARCHITECTURE.md's ``## alphazero contracts`` section name."""
    section = architecture.split("## alphazero contracts", 1)[1].split("\n## ", 1)[0]
    bullets = "\n".join(line for line in section.splitlines() if line.startswith("- "))
    return frozenset("alphazero." + path[:-3].replace("/", ".") for path in re.findall(r"`([\w/]+\.py)`", bullets))


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the four packages under ``root``."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, module: str, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported module) for every import in ``path``; ``from a import b`` names ``a.b``
    when that is a module of the tree, relative imports resolved against ``module``."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            if base == "__future__":
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.append((node.lineno, full if full in known else base))
    return out


def is_contract(name: str, contracts: frozenset[str]) -> bool:
    return name in ("alphazero", "alphazero.config") or name.startswith("alphazero.config.") or name in contracts


def violation(module: str, target: str, contracts: frozenset[str]) -> str | None:
    """Why ``module`` may not import ``target``; None when it may."""
    top, target_top = module.split(".")[0], target.split(".")[0]
    if top == "go_engine":
        if target_top not in GAME_MAY_IMPORT and target_top not in sys.stdlib_module_names:
            return "go_engine imports only numpy, numba, sgfmill and the standard library"
    elif top in ROLES:
        if target_top in ROLES and target_top != top:
            return "selfplay and trainer never import each other"
        if target_top == "alphazero" and not is_contract(target, contracts):
            return f"{top} takes from alphazero only its contracts"
    elif is_contract(module, contracts):
        if target_top in ROLES or (target_top == "alphazero" and not is_contract(target, contracts)):
            return "a contract imports no role or product code"
    return None


def layer_violations(root: Path, contracts: frozenset[str]) -> list[str]:
    found = modules(root)
    known = set(found)
    problems = []
    for module, path in sorted(found.items()):
        for line, target in imports(path, module, known):
            why = violation(module, target, contracts)
            if why is not None:
                problems.append(f"{path.relative_to(root)}:{line}: imports {target}: {why}")
    return problems


def test_architecture_lists_the_contracts_that_exist():
    contracts = contract_modules((ROOT / "ARCHITECTURE.md").read_text())
    for expected in ("alphazero.config.run", "alphazero.game_record", "alphazero.checkpoint", "alphazero.model",
                     "alphazero.train.messages", "alphazero.arena.messages"):
        assert expected in contracts, f"{expected} missing from ARCHITECTURE.md's contracts section"
    missing = sorted(c for c in contracts if c not in modules(ROOT))
    assert not missing, f"ARCHITECTURE.md lists contracts that do not exist: {missing}"


def test_the_tree_keeps_its_layers():
    problems = layer_violations(ROOT, contract_modules((ROOT / "ARCHITECTURE.md").read_text()))
    assert not problems, "imports crossing the layers of ARCHITECTURE.md:\n" + "\n".join(problems)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_fails_on_each_kind_of_forbidden_import(tmp_path):
    _write(tmp_path, {
        "go_engine/__init__.py": "",
        "go_engine/board.py": "import os\nimport numpy as np\nfrom . import rules\n",
        "go_engine/rules.py": "def f():\n    import torch  # a lazy import counts too\n",
        "selfplay/__init__.py": "",
        "selfplay/mcts.py": "from go_engine import board\nfrom alphazero.config import search\nfrom trainer import learner\n",
        "selfplay/worker.py": "from alphazero.train import loop\n",
        "trainer/__init__.py": "",
        "trainer/learner.py": "from selfplay.mcts import x\n",
        "alphazero/__init__.py": "",
        "alphazero/config/__init__.py": "",
        "alphazero/config/search.py": "",
        "alphazero/config/arena.py": "from alphazero.arena.sprt import Sprt\n",
        "alphazero/model.py": "from .train import loop\n",
        "alphazero/arena/__init__.py": "",
        "alphazero/arena/sprt.py": "",
        "alphazero/train/__init__.py": "",
        "alphazero/train/loop.py": "import selfplay.worker, trainer.learner, alphazero.arena.sprt\n",
        "alphazero/cli.py": "from alphazero.train import loop\nfrom selfplay import mcts\n",
    })
    problems = layer_violations(tmp_path, frozenset({"alphazero.model"}))
    assert problems == [
        "alphazero/config/arena.py:1: imports alphazero.arena.sprt: a contract imports no role or product code",
        "alphazero/model.py:1: imports alphazero.train.loop: a contract imports no role or product code",
        "go_engine/rules.py:2: imports torch: go_engine imports only numpy, numba, sgfmill and the standard library",
        "selfplay/mcts.py:3: imports trainer.learner: selfplay and trainer never import each other",
        "selfplay/worker.py:1: imports alphazero.train.loop: selfplay takes from alphazero only its contracts",
        "trainer/learner.py:1: imports selfplay.mcts: selfplay and trainer never import each other",
    ], problems


def test_the_checker_fails_when_a_forbidden_import_is_added_to_the_real_tree(tmp_path):
    """A copy of the real tree passes; the same copy with one forbidden import added fails."""
    import shutil

    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    contracts = contract_modules((ROOT / "ARCHITECTURE.md").read_text())
    assert layer_violations(tmp_path, contracts) == []
    config = tmp_path / "alphazero" / "config" / "arena.py"
    config.write_text(config.read_text() + "\nfrom alphazero.arena.sprt import Sprt  # noqa\n")
    problems = layer_violations(tmp_path, contracts)
    assert len(problems) == 1 and "alphazero/config/arena.py" in problems[0] and "contract" in problems[0], problems
