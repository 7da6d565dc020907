"""Pure helpers of search: query tokenising (no FTS syntax survives) and snippet sanitising."""

from __future__ import annotations

from callnotes.store.search import fts5_match_expression, query_tokens, safe_snippet, tsquery_expression

OPEN, CLOSE = "\ufdd0", "\ufdd1"


def test_tokens_drop_every_syntax_character() -> None:
    assert query_tokens("\"NEAR(a b)\" -c* d:e ^f {g} (h) & i | !j <-> 'k'") == [
        "NEAR",
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
        "g",
        "h",
        "i",
        "j",
        "k",
    ]
    assert query_tokens("   ") == [] and query_tokens("--") == []


def test_tokens_are_bounded() -> None:
    assert len(query_tokens("word " * 100)) == 12
    assert len(query_tokens("x" * 500)[0]) == 60


def test_fts5_expression_quotes_every_token_and_prefixes_the_last() -> None:
    assert fts5_match_expression(["NEAR", "kube"]) == '"NEAR" "kube"*'
    assert tsquery_expression(["cost", "kube"]) == "cost & kube:*"


def test_snippet_escapes_then_marks() -> None:
    raw = f"<script>alert('x')</script> {OPEN}cost{CLOSE} & \"more\""
    assert safe_snippet(raw) == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>cost</mark> &amp; &quot;more&quot;"
    )


def test_snippet_marks_always_balance() -> None:
    assert safe_snippet(f"{OPEN}a{OPEN}b") == "<mark>ab</mark>"
    assert safe_snippet(f"a{CLOSE}b") == "ab"
    assert safe_snippet("<mark>not ours</mark>") == "&lt;mark&gt;not ours&lt;/mark&gt;"


def test_snippet_collapses_whitespace() -> None:
    assert safe_snippet(f"line one\n\n  {OPEN}two{CLOSE}\tthree") == "line one <mark>two</mark> three"
