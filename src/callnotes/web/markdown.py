"""Markdown → safe HTML for note bodies: markdown-it-py (raw HTML off) then nh3 (allow-list).

Rendering is bounded: markdown-it-py is pure Python and some inputs well under the body limit take
tens of seconds (a long run of ``[`` or ``![``, ``*_`` pairs, hundreds of thousands of short lines:
see ``tests/unit/web/test_web_markdown_bounds.py``). A body longer than :data:`RENDER_MAX_CHARS`, or
one whose rendering has used :data:`RENDER_BUDGET_SECONDS` of CPU time, is shown as escaped plain
text instead (the text is all there, only not formatted). The budget is the rendering thread's own
CPU time (``time.thread_time``), not the wall clock: on a busy machine (other requests holding the
GIL, other processes) an ordinary note still renders, and a pathological one still stops after the
same amount of work. The budget is checked by one block rule
and one inline rule placed before all others, so it is looked at for every line and every inline
position, also while a link label is scanned ahead.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

_TAGS = frozenset({
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
})
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_URL_SCHEMES = frozenset({"http", "https", "mailto", "msteams"})
#: Longer bodies are shown as plain text (100,000 characters of an ordinary note take ~0.5 s to
#: format, well inside the budget; notes are a few thousand characters).
RENDER_MAX_CHARS = 100_000
#: A rendering that has used this much CPU time is abandoned for plain text.
RENDER_BUDGET_SECONDS = 1.0
_DEADLINE = "callnotes_deadline"


class _OverBudget(Exception):
    """The rendering ran out of time."""


def _past_deadline(env: Any) -> bool:
    return time.thread_time() > env.get(_DEADLINE, math.inf)


def _block_budget(state: Any, start_line: int, end_line: int, silent: bool) -> bool:
    if _past_deadline(state.env):
        raise _OverBudget
    return False  # never matches: the other rules go on


def _inline_budget(state: Any, silent: bool) -> bool:
    if _past_deadline(state.env):
        raise _OverBudget
    return False


def _post_budget(state: Any) -> None:
    if _past_deadline(state.env):
        raise _OverBudget


@functools.cache
def _parser() -> MarkdownIt:
    """Built once: the configured parser is never changed after this, only used to render."""
    # "html": False turns raw HTML in the source into text; markdown-it's own link validation
    # already refuses javascript:/vbscript:/data: links, and nh3 checks again below.
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )
    # ``alt``: also asked for every line a paragraph, list, quote or reference runs on for (the
    # rules that may end them are tried line by line).
    parser.block.ruler.before("table", "callnotes_budget", _block_budget,
                              {"alt": ["paragraph", "reference", "blockquote", "list"]})
    parser.inline.ruler.before("text", "callnotes_budget", _inline_budget)
    parser.inline.ruler2.before("balance_pairs", "callnotes_budget", _post_budget)
    return parser


def plain_text(source: str, reason: str) -> Markup:
    """``source`` as escaped text in a ``<pre>``, after a line saying why it is not formatted."""
    return Markup(  # noqa: S704 - both parts are escaped here
        f'<p class="render-note">{escape(reason)}</p><pre class="plain-body">{escape(source)}</pre>')


def render_markdown(
    source: str, *, budget_seconds: float = RENDER_BUDGET_SECONDS, max_chars: int = RENDER_MAX_CHARS
) -> Markup:
    """Render a note body to HTML that is safe to put in a page (plain text when over the bounds)."""
    source = source or ""
    if len(source) > max_chars:
        return plain_text(source, f"Shown as plain text: longer than {max_chars:,} characters.")
    try:
        html = _parser().render(source, {_DEADLINE: time.thread_time() + budget_seconds})
    except (_OverBudget, RecursionError):
        return plain_text(source, "Shown as plain text: too complex to format quickly.")
    cleaned = nh3.clean(
        html,
        tags=set(_TAGS),
        attributes={tag: set(attrs) for tag, attrs in _ATTRIBUTES.items()},
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 - sanitised by nh3 on the line above
