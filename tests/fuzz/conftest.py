"""The fuzzing layer: hypothesis mutates valid CSV, XLSX, TOML and YAML inputs and drives the real
command line on them (issue #23).

`strategies` holds the mutations, `harness` runs the app and checks the promise: exit code 0 and
a valid result, or exit code 2, one line on stderr and nothing written. One test module per kind
of input. ``ALLOCATOR_TEST_SCALE=20`` runs twenty times the CI budget;
``ALLOCATOR_FUZZ_SURVEY=findings.jsonl`` records every failure instead of stopping at the first
(see `harness`).
"""

import sys
from pathlib import Path

# the test modules import `strategies` and `harness` from this folder; `tests` cannot be a package
# name here (an installed package, ciw, ships a top-level `tests`)
sys.path.insert(0, str(Path(__file__).parent))
