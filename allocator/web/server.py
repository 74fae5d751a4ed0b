"""The uvicorn server the console runs in: `allocator serve` and the tests start it the same way.

Uvicorn's access log is off: a URL may hold a household's id (a path parameter, a filter), so
the console logs each request itself, with the route's template and never the real URL.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette


def server(app: Starlette, host: str = "127.0.0.1", port: int = 8000):
    """A `uvicorn.Server` for ``app`` (``port=0``: any free port); ``.run()`` serves until
    stopped (``should_exit = True`` or Ctrl-C)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=None,  # keep the process's logging: ours, not uvicorn's access format
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        lifespan="on",
    )
    return uvicorn.Server(config)


def log_to_stderr(level: int = logging.INFO) -> None:
    """Request lines (``allocator.web``) and uvicorn's start and stop lines on stderr."""
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
