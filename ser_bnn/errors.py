"""User-facing errors: the CLI prints them as one line and exits non-zero."""

from __future__ import annotations


class SerBnnError(Exception):
    """An error caused by input (files, flags, data) that the user can fix."""


class DataError(SerBnnError):
    """A corpus, manifest or audio file is missing, malformed or inconsistent."""


class AudioError(DataError):
    """An audio file cannot be read or holds no usable signal."""


class ConfigError(SerBnnError):
    """A configuration file or flag value is invalid."""


class ExportError(SerBnnError):
    """Conversion produced a model that fails a check (op types, parity)."""


def run_script(main, prog: str) -> int:  # noqa: ANN001 - Callable[[], int | None]
    """Run a script's `main()`: a `SerBnnError` becomes one line on stderr and exit code 2, as in the CLI."""
    import sys

    try:
        return main() or 0
    except SerBnnError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
