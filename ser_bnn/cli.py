"""`ser-bnn` command line: a thin layer over the library.

Each sub-command lives in `ser_bnn.commands.<name>` with `add_arguments(parser)` and
`run(args) -> int`. Modules are imported only when their command runs, so `ser-bnn predict`
never imports TensorFlow. A `SerBnnError` becomes one line on stderr and exit code 2.

`pip install ser-bnn` installs the runtime only (`predict`); the other commands need the `train`
extra and say so in one line when it is missing.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from ser_bnn import __version__
from ser_bnn.errors import SerBnnError

COMMANDS: dict[str, str] = {
    "prepare": "validate a corpus, print its summary and build the feature cache",
    "train": "train a BCRNN or CRNN with a speaker-independent split",
    "evaluate": "evaluate a run directory: UAR, WA, per-class recall, confusion matrix",
    "export": "convert a run to a bit-packed, waveform-in .tflite with a parity gate",
    "predict": "classify audio files with an exported .tflite (no TensorFlow needed)",
}

# the commands that need the `train` extra, and the modules of it they import
NEEDS_TRAIN_EXTRA = ("prepare", "train", "evaluate", "export")
TRAIN_EXTRA_MODULES = ("tensorflow", "tf_keras", "larq", "librosa", "sklearn", "matplotlib")


def missing_extra(command: str) -> str | None:
    """The one-line error for a command whose extra is not installed, else None."""
    if command not in NEEDS_TRAIN_EXTRA:
        return None
    missing = [m for m in TRAIN_EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (
        f"needs the 'train' extra ({', '.join(missing)} not installed): pip install 'ser-bnn[train]' "
        "(from a clone: pip install -e '.[train]'); only `ser-bnn predict` works without it"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ser-bnn", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ser-bnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        _module(name).add_arguments(p)
    return parser


def _module(name: str):  # noqa: ANN202 - module object
    return importlib.import_module(f"ser_bnn.commands.{name}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    need = missing_extra(args.command)
    if need:
        print(f"ser-bnn {args.command}: error: {need}", file=sys.stderr)
        return 2
    try:
        return int(_module(args.command).run(args) or 0)
    except SerBnnError as e:
        print(f"ser-bnn {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ser-bnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
