#!/usr/bin/env bash
# The project's test command: sets up .venv if needed, then lint + the default (fast) test suite.
#
#   scripts/run_tests.sh            # default suite (< 15 min on 2 cores)
#   scripts/run_tests.sh --slow     # only the tests marked slow
#   scripts/run_tests.sh -k gps     # extra arguments go to pytest
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup_env.sh
PY="${VENV:-$ROOT/.venv}/bin/python"

marker=()
if [[ "${1:-}" == "--slow" ]]; then
  marker=(-m slow)
  shift
fi

echo "== ruff"
"$PY" -m ruff check .
"$PY" -m ruff format --check .

echo "== pytest"
set +e
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" "$PY" -m pytest -q -p no:cacheprovider "${marker[@]}" "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
  echo "run_tests: pytest collected no tests: treating as a failure" >&2
  exit 1
fi
exit $rc
