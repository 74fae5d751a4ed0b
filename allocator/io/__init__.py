"""Files in and out: input tables read with their rows and columns named, results written
atomically, and a run's outputs checked against everything it reads.

`reading` reads CSV and Excel tables (every cell as text, validated by `allocator.tables`), and
a plan or a simulation's per-household records for the audit;
`writing` writes tables and JSON through `Staging` (all-or-nothing), and its `Outputs` refuses,
before a run starts, an output that is an input, the ledger or another output, by any path or
link, and one that cannot be written.
"""

from allocator.io.reading import (
    TABLE_SUFFIXES,
    FileSource,
    read_plan,
    read_simulation_households,
    read_table,
    require,
)
from allocator.io.writing import Outputs, Staging, dumps_json, same_file, write_json, write_table

__all__ = [
    "TABLE_SUFFIXES",
    "FileSource",
    "Outputs",
    "Staging",
    "dumps_json",
    "read_plan",
    "read_simulation_households",
    "read_table",
    "require",
    "same_file",
    "write_json",
    "write_table",
]
