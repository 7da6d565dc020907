"""Where each table and key of a TOML file is written: line numbers for the mapping file's errors.

``tomllib`` gives values, not positions. This scanner reads the lines the way TOML lays a file out —
``[table]`` and ``[[array.of.tables]]`` headers, ``key = value`` lines (dotted keys too), multi-line
strings skipped — and records the line of every path (``("mapping", 0, "field", 2, "type")``). A path
it did not see (a key inside an inline table) is answered with the line of its nearest ancestor.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]")
_NAME = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*=")


def _names(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", dotted)]


class LineIndex:
    """Line numbers (from 1) of the tables and keys of one TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        self._latest: dict[Path, int] = {}  # array of tables (by its path) → its current element
        self._scan(text)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one; None for an empty path."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    def _resolve(self, names: list[str], *, new_element: bool) -> Path:
        """The path of a header: arrays of tables along the way take their current element."""
        path: list[str | int] = []
        for position, name in enumerate(names):
            path.append(name)
            array = tuple(path)
            if position == len(names) - 1 and new_element:
                self._latest[array] = self._latest.get(array, -1) + 1
                path.append(self._latest[array])
            elif array in self._latest:
                path.append(self._latest[array])
        return tuple(path)

    def _scan(self, text: str) -> None:
        current: Path = ()
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            if (match := _ARRAY_HEADER.match(line)) is not None:
                current = self._resolve(_names(match.group(1)), new_element=True)
                self._lines.setdefault(current, number)
            elif (match := _TABLE_HEADER.match(line)) is not None:
                current = self._resolve(_names(match.group(1)), new_element=False)
                self._lines.setdefault(current, number)
            elif (match := _KEY.match(line)) is not None:
                self._lines.setdefault((*current, *_names(match.group(1))), number)
            in_string = _opens_multiline(line)


def _opens_multiline(line: str) -> str | None:
    """The delimiter of a multi-line string this line opens and leaves open, if any."""
    for quote in ('"""', "'''"):
        if line.count(quote) % 2 == 1:
            return quote
    return None
