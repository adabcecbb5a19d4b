"""`frozenseg-deploy`: the project's one command-line tool.

Subcommands import their heavy dependencies when they run, so the tool starts fast and the
torch-free commands (added by later issues) work without torch installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from frozenseg_runtime.errors import FrozenSegError


def _resize_arg(text: str) -> tuple[int, int] | None:
    """`SHORT,MAX` or `none`."""
    if text.strip().lower() == "none":
        return None
    try:
        short, longest = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--resize takes SHORT,MAX (e.g. 800,1333) or none, got {text!r}")
    if short <= 0 or longest < short:
        raise argparse.ArgumentTypeError(f"--resize needs 0 < SHORT <= MAX, got {text!r}")
    return short, longest


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="run the PyTorch reference on one image",
        description="Run the PyTorch reference on one image and write outputs.npz and overlay PNGs.",
    )
    p.add_argument("--checkpoint", help="official FrozenSeg checkpoint (.pth); synthetic weights if omitted")
    p.add_argument("--preset", default=None, help="model preset (default: convnext_large_vit_b)")
    p.add_argument("--vocabulary", required=True, help="class list: file (.txt ID:name,... or .json) or 'cat,dog,grass'")
    p.add_argument("--train-vocabulary", help="training vocabulary for seen/unseen (default: COCO panoptic)")
    p.add_argument("--image", required=True, help="input image (JPEG, PNG, WebP, BMP)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--resize", type=_resize_arg, default=(800, 1333), metavar="SHORT,MAX|none",
                   help="test-time resize of the shortest edge with a max size (default 800,1333)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic weights")
    p.set_defaults(run=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    from frozenseg_reference.predict import run_predict

    return run_predict(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frozenseg-deploy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_predict(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FrozenSegError as exc:
        print(f"frozenseg-deploy {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
