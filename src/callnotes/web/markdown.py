"""Markdown → safe HTML for note bodies: markdown-it-py (raw HTML off) then nh3 (allow-list)."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_TAGS = frozenset({
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
})
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_URL_SCHEMES = frozenset({"http", "https", "mailto", "msteams"})


@functools.cache
def _parser() -> MarkdownIt:
    """Built once: the configured parser is never changed after this, only used to render."""
    # "html": False turns raw HTML in the source into text; markdown-it's own link validation
    # already refuses javascript:/vbscript:/data: links, and nh3 checks again below.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def render_markdown(source: str) -> Markup:
    """Render a note body to HTML that is safe to put in a page."""
    html = _parser().render(source or "")
    cleaned = nh3.clean(
        html,
        tags=set(_TAGS),
        attributes={tag: set(attrs) for tag, attrs in _ATTRIBUTES.items()},
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 - sanitised by nh3 on the line above
