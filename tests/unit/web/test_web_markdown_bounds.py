"""Markdown rendering is bounded (issue 14): inputs under the note limit that took 10-40 s to render
(``bench/markdown_bench.py`` prints the times) degrade to escaped plain text, whole and safe; ordinary
notes still render."""

from __future__ import annotations

import pytest

from callnotes.store.limits import NOTE_BODY_MAX
from callnotes.web.markdown import RENDER_MAX_CHARS, render_markdown

#: Shapes that make markdown-it-py slow (measured: 200,000 characters of each took 5-16 s, 900,000
#: characters 10-40 s before the bound; here shorter, with a small budget).
PATHOLOGICAL = {
    "brackets": "[" * 60_000,
    "images": "![" * 30_000,
    "link openers": "[a](" * 15_000,
    "emphasis": "*a_" * 20_000,
    "lines": "a\n" * 30_000,
    "setext": "a\n=\n" * 15_000,
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_input_degrades_to_plain_text(name: str) -> None:
    source = PATHOLOGICAL[name] + "<script>alert(1)</script>"
    html = str(render_markdown(source, budget_seconds=0.05))
    assert 'class="plain-body"' in html and "too complex" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("[") + html.count("&#91;") >= source.count("[")  # the text is all there


def test_longer_than_the_render_bound_is_plain_text_at_once() -> None:
    source = "**bold** " * (RENDER_MAX_CHARS // 9 + 1)
    assert RENDER_MAX_CHARS < len(source) <= NOTE_BODY_MAX
    html = str(render_markdown(source))
    assert "<strong>" not in html and f"longer than {RENDER_MAX_CHARS:,} characters" in html
    assert "**bold**" in html


def test_ordinary_notes_still_render_within_the_budget() -> None:
    # ~7,400 characters, twice a long real note: ~0.05 s of CPU here, a twentieth of the budget.
    note = "## Call\n\n- **AKS** quota\n- [docs](https://learn.microsoft.com)\n\n> quoted\n\n" * 100
    html = str(render_markdown(note))
    assert "<h2>" in html and "<strong>AKS</strong>" in html and "plain-body" not in html
    assert 'href="https://learn.microsoft.com"' in html


def test_a_zero_budget_always_degrades() -> None:
    assert "plain-body" in str(render_markdown("# title\n\ntext", budget_seconds=0))
    assert str(render_markdown("")) == ""

