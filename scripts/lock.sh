#!/usr/bin/env bash
# Regenerate requirements.lock from the ranges in pyproject.toml: resolve them in a scratch venv
# (so nothing already installed leaks into the pins) and freeze the result.
set -euo pipefail

cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
out="${1:-requirements.lock}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

"$python" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --upgrade pip
# pyproject.toml has no build backend (the project is not a package), so read the ranges
# directly instead of `pip install .[dev]`.
"$python" - >"$scratch/ranges.txt" <<'PY'
import tomllib

with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    print(requirement)
PY
"$scratch/venv/bin/python" -m pip install --quiet -r "$scratch/ranges.txt"
"$scratch/venv/bin/python" -m pip check
"$scratch/venv/bin/python" -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel \
    >"$out"
echo "wrote $out ($(wc -l <"$out") pins)"
