#!/usr/bin/env python3
"""Structure checks that import-linter does not make (`make check` runs both).

    scripts/check_structure.py [--max-lines 500]

1. No module is over ``--max-lines`` lines: past that it becomes a package split by
   sub-domain (README, "Layout and where code goes"). Migrations and tests are left out.
2. No function imports a project module, so an import cycle cannot hide inside a function.
   ``AppConfig.ready()`` is exempt (it exists to import late), and so is a function that says
   why with a ``# late import:`` comment above its first such import.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"opsconsole", "accounts", "routing", "reports", "gates", "bench", "tests"}
LATE_IMPORT_MARK = "# late import:"


def tracked_python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    paths = [ROOT / name for name in listed if "migrations" not in Path(name).parts]
    return [path for path in paths if path.exists()]


def too_long(path: Path, max_lines: int) -> str | None:
    relative = path.relative_to(ROOT)
    if relative.parts[0] in {"tests", "scripts"}:
        return None
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if lines > max_lines:
        return f"{relative}: {lines} lines (limit {max_lines}); split it by sub-domain"
    return None


def late_imports(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    problems = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name == "ready":
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            if not any(module.split(".")[0] in PROJECT_PACKAGES for module in modules):
                continue
            said_why = any(LATE_IMPORT_MARK in line for line in lines[function.lineno - 1 : node.lineno])
            if not said_why:
                problems.append(
                    f"{path.relative_to(ROOT)}:{node.lineno}: {function.name}() imports "
                    f"{', '.join(modules)}; import it at the top, or say why with '{LATE_IMPORT_MARK}'"
                )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=500)
    args = parser.parse_args()
    problems = []
    files = tracked_python_files()
    for path in files:
        long_one = too_long(path, args.max_lines)
        if long_one:
            problems.append(long_one)
        problems.extend(late_imports(path))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"structure: {len(files)} modules, none over {args.max_lines} lines, no unexplained late imports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
