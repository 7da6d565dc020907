"""Markdown bench (issue 14): how long inputs under the note limit take to render, without the bound
(markdown-it-py as the app used it before) and with it (``render_markdown``: plain text past
``RENDER_MAX_CHARS`` or ``RENDER_BUDGET_SECONDS``), against an ordinary note of the same size, in the
same run.

    .venv/bin/python bench/markdown_bench.py [--size 100000]
"""

from __future__ import annotations

import argparse
import time

from callnotes.web.markdown import _parser, render_markdown

_ORDINARY = ("## Call\n\nDiscussed the **AKS** roadmap with *Ann*, see [docs](https://example.com).\n\n"
             "- a\n- b\n\n")
_SHAPES = {
    "ordinary note": _ORDINARY,
    "[ repeated": "[",
    "![ repeated": "![",
    "[a]( repeated": "[a](",
    "*a_ repeated": "*a_",
    "*_ repeated": "*_",
    "a<newline> repeated": "a\n",
    "setext headings": "a\n=\n",
    "table": "|a|b|\n|-|-|\n",
}


def _seconds(render: object, source: str) -> float:
    started = time.perf_counter()
    render(source)  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="characters per input")
    args = parser.parse_args()
    unbounded = _parser().render  # the same parser; no deadline in its env, no size cap
    rows = []
    for name, unit in _SHAPES.items():
        source = (unit * (args.size // len(unit) + 1))[:args.size]
        rows.append((name, _seconds(unbounded, source), _seconds(render_markdown, source),
                     "plain text" if "plain-body" in str(render_markdown(source)) else "formatted"))
    ordinary = rows[0][1]
    print(f"{'input (' + format(args.size, ',') + ' chars)':<28} {'before s':>9} {'x ordinary':>11} "
          f"{'after s':>8} {'shown as':>11}")
    for name, before, after, shown in rows:
        print(f"{name:<28} {before:>9.2f} {before / ordinary:>11.1f} {after:>8.2f} {shown:>11}")


if __name__ == "__main__":
    main()
