"""The planners' web console: `allocator serve` (docs/console.md).

`create_app(ledger, settings)` builds the Starlette application on a ledger; pages are declared
in `allocator.web.views` with `allocator.web.routing.page`, which names the roles each allows.
Nothing here keeps its own data model: accounts live in the ledger's ``users`` table and every
change goes through the ledger's transactions and audit trail.
"""

from allocator.web.app import create_app
from allocator.web.settings import ConsoleSettings

__all__ = ["ConsoleSettings", "create_app"]
