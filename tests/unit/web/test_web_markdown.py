"""Note bodies render as sanitised HTML: no raw HTML, no script, no javascript: links."""

from __future__ import annotations

import re

import pytest

from callnotes.web.markdown import render_markdown


def test_markdown_renders_the_usual_things() -> None:
    html = str(render_markdown("# Title\n\n**bold** _it_ `code`\n\n- a\n- b\n\n[MS](https://microsoft.com)"))
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert "<li>a</li>" in html
    assert '<a href="https://microsoft.com" rel="noopener noreferrer nofollow">MS</a>' in html


def test_tables_and_strikethrough_are_supported() -> None:
    html = str(render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~"))
    assert "<table>" in html and "<td>1</td>" in html
    assert "<s>gone</s>" in html or "<del>gone</del>" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<div onclick="alert(1)">x</div>',
        "<svg><script>alert(1)</script></svg>",
        "<style>body{display:none}</style>",
    ],
)
def test_raw_html_is_shown_as_text_never_as_markup(source: str) -> None:
    html = str(render_markdown(source))
    assert not re.search(r"<(script|img|iframe|svg|style|div)\b", html)
    assert "&lt;" in html  # the text is still visible to the reader, as text


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](  javascript:alert(document.cookie) )",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<javascript:alert(1)>",
        "[click][ref]\n\n[ref]: javascript:alert(1)",
        "![img](javascript:alert(1))",
    ],
)
def test_dangerous_link_schemes_are_neutralised(source: str) -> None:
    html = str(render_markdown(source)).lower()
    assert 'href="javascript' not in html and 'href="vbscript' not in html and 'href="data' not in html
    assert "src=" not in html


def test_only_safe_schemes_survive() -> None:
    html = str(render_markdown("[mail](mailto:a@b.com) [web](http://example.com) [rel](/notes/1)"))
    assert 'href="mailto:a@b.com"' in html and 'href="http://example.com"' in html
    assert 'href="/notes/1"' in html


def test_empty_body_renders_empty() -> None:
    assert str(render_markdown("")) == ""
