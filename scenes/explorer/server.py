"""Front ends: a desktop window, or the browser through matplotlib's WebAgg server."""

from __future__ import annotations

import sys
from typing import Any

import matplotlib

__all__ = ["INTERACTIVE_BACKENDS", "open_desktop", "serve_browser"]

#: Desktop backends tried in order when none is configured.
INTERACTIVE_BACKENDS = ("macosx", "qtagg", "gtk4agg", "gtk3agg", "tkagg", "wxagg")
#: The one host WebAgg is served on: it checks the websocket origin by exact
#: host, so the URL printed must use the same one (not `localhost`).
HOST = "127.0.0.1"


def _interactive_backend(explicit: str | None) -> str:
    """The desktop backend to use, or a ValueError saying what to install."""
    import matplotlib.pyplot as plt
    from matplotlib.backends import BackendFilter, backend_registry

    interactive = backend_registry.list_builtin(BackendFilter.INTERACTIVE)
    candidates = [explicit] if explicit else list(INTERACTIVE_BACKENDS)
    for name in candidates:
        if name.lower() in ("webagg", "nbagg") or (
            name.lower() not in interactive and not name.startswith("module://")
        ):
            continue  # not a desktop window
        try:
            plt.switch_backend(name)
        except (ImportError, RuntimeError, ValueError):
            continue
        return name
    raise ValueError(
        "no interactive matplotlib backend is available (tried "
        f"{', '.join(candidates)}). Install one, e.g. `apt install python3-tk` "
        "(TkAgg) or `pip install PyQt6` (QtAgg), or run `optiscape explore "
        "--browser` instead."
    )


def open_desktop(backend: str | None = None, **explorer_args: Any) -> None:
    """Opens the explorer in a desktop window and blocks until it is closed.

    Args:
        backend: a matplotlib backend name (default: the first of
            `INTERACTIVE_BACKENDS` that works here; `MPLBACKEND` if the user
            set one).
        **explorer_args: `Explorer` arguments.
    """
    import matplotlib.pyplot as plt

    from scenes.explorer.app import Explorer

    _interactive_backend(backend)
    explorer = Explorer(**explorer_args)
    explorer.refresh()
    plt.show()


def serve_browser(
    port: int = 8988, open_browser: bool = True, **explorer_args: Any
) -> None:
    """Serves the explorer on http://127.0.0.1:PORT with WebAgg until Ctrl-C.

    Prints the URL, then one `explore: ...` line per change of state (start
    moved, optimizer changed, file written), so scripts and tests can follow.

    Raises:
        ValueError: the port is taken or invalid.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"`port` must be in 1..65535. Received: port={port!r}")
    matplotlib.use("webagg", force=True)
    matplotlib.rcParams.update(
        {
            "webagg.address": HOST,
            "webagg.port": port,
            "webagg.port_retries": 1,  # exactly this port, or an error
            "webagg.open_in_browser": False,
        }
    )
    from matplotlib.backends.backend_webagg import WebAggApplication

    from scenes.explorer.app import Explorer

    explorer = Explorer(**explorer_args)
    explorer._on_note = lambda line: print(f"explore: {line}", flush=True)
    try:
        WebAggApplication.initialize()
    except SystemExit:
        raise ValueError(
            f"port {port} on {HOST} is in use. Received: port={port}"
        ) from None
    url = f"http://{HOST}:{WebAggApplication.port}/{explorer.figure.number}"
    print(f"optiscape explore: serving at {url} (Ctrl-C stops)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    sys.stdout.flush()
    WebAggApplication.start()
