"""Tokens of one source line, GNU as style.

Owns the lexical syntax: identifiers (symbols, mnemonics, directives, which may
contain '.' and '$'), numbers (decimal, 0x hex, 0b binary, 0-prefixed octal),
character literals 'a' (the closing quote is optional, as in GNU as), strings with
C escapes, numeric local label references (1b, 1f), operators, and comments:
'#' and '//' to the end of the line, '/* ... */' possibly spanning lines.
';' is returned as an operator token: the parser uses it to separate statements.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from isa.asm.diagnostics import LocatedError


class Token(NamedTuple):
    kind: str  # "ident", "num", "str", "local" (1b/1f), "op"
    text: str
    column: int  # 0-based
    value: object = None  # int for num, bytes for str, (label number, "b"|"f") for local


_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<comment>\#|//)
  | (?P<block>/\*)
  | (?P<num>[0-9][\w.$]*)
  | (?P<ident>[A-Za-z_.$][\w.$]*)
  | (?P<str>")
  | (?P<char>')
  | (?P<op><<|>>|[-+*/%&|^~!(),:=;@])
""", re.VERBOSE)

_ESCAPES = {"n": 10, "t": 9, "r": 13, "b": 8, "f": 12, "v": 11, "a": 7,
            "\\": 92, '"': 34, "'": 39, "e": 27}
_OCTAL = frozenset("01234567")
_HEX = frozenset("0123456789abcdefABCDEF")


def parse_number(text: str, column: int) -> Token:
    """A token starting with a digit: an integer literal or a local label reference."""
    lower = text.lower()
    try:
        if lower.startswith("0x"):
            return Token("num", text, column, int(lower[2:], 16))
        if lower.startswith("0b") and len(lower) > 2:
            return Token("num", text, column, int(lower[2:], 2))
        if lower[-1] in "bf" and lower[:-1].isdigit():
            return Token("local", text, column, (int(lower[:-1]), lower[-1]))
        if lower.isdigit():
            return Token("num", text, column, int(lower, 8) if lower[0] == "0" else int(lower))
    except ValueError:
        pass
    raise LocatedError(f"invalid number '{text}'", column)


def _escape(line: str, pos: int) -> tuple[int, int]:
    """Decode the escape whose backslash is at `pos`: (byte value, position after it)."""
    if pos + 1 >= len(line):
        raise LocatedError("backslash at end of line", pos)
    c = line[pos + 1]
    if c in _OCTAL:
        end = pos + 2
        while end < len(line) and end < pos + 4 and line[end] in _OCTAL:
            end += 1
        return int(line[pos + 1:end], 8) & 0xFF, end
    if c in "xX":
        end = pos + 2
        while end < len(line) and line[end] in _HEX:
            end += 1
        if end == pos + 2:
            raise LocatedError("\\x used with no following hex digits", pos)
        return int(line[pos + 2:end], 16) & 0xFF, end
    if c in _ESCAPES:
        return _ESCAPES[c], pos + 2
    raise LocatedError(f"unknown escape sequence '\\{c}'", pos)


def _string(line: str, start: int) -> tuple[Token, int]:
    out = bytearray()
    pos = start + 1
    while pos < len(line):
        c = line[pos]
        if c == '"':
            return Token("str", line[start:pos + 1], start, bytes(out)), pos + 1
        if c == "\\":
            value, pos = _escape(line, pos)
            out.append(value)
        else:
            out += c.encode("utf-8", "surrogateescape")
            pos += 1
    raise LocatedError("unterminated string", start)


def _char(line: str, start: int) -> tuple[Token, int]:
    pos = start + 1
    if pos >= len(line):
        raise LocatedError("missing character after quote", start)
    if line[pos] == "\\":
        value, pos = _escape(line, pos)
    else:
        encoded = line[pos].encode("utf-8", "surrogateescape")
        if len(encoded) != 1:
            raise LocatedError("character constant must be a single byte", start)
        value, pos = encoded[0], pos + 1
    if pos < len(line) and line[pos] == "'":
        pos += 1
    return Token("num", line[start:pos], start, value), pos


def tokenize(line: str, in_comment: bool) -> tuple[list[Token], bool]:
    """Tokens of `line`; `in_comment` says whether a /* comment is open at its start.

    Returns the tokens and whether a /* comment is still open at the end of the line.
    Raises LocatedError for malformed tokens.
    """
    tokens: list[Token] = []
    pos = 0
    end = len(line)
    if in_comment:
        close = line.find("*/")
        if close < 0:
            return tokens, True
        pos = close + 2
    match = _TOKEN.match
    while pos < end:
        m = match(line, pos)
        if m is None:
            raise LocatedError(f"unexpected character '{line[pos]}'", pos)
        kind = m.lastgroup
        if kind == "space":
            pos = m.end()
        elif kind == "ident":
            tokens.append(Token("ident", m.group(), pos))
            pos = m.end()
        elif kind == "op":
            tokens.append(Token("op", m.group(), pos))
            pos = m.end()
        elif kind == "num":
            tokens.append(parse_number(m.group(), pos))
            pos = m.end()
        elif kind == "comment":
            break
        elif kind == "block":
            close = line.find("*/", pos + 2)
            if close < 0:
                return tokens, True
            pos = close + 2
        elif kind == "str":
            token, pos = _string(line, pos)
            tokens.append(token)
        else:  # char
            token, pos = _char(line, pos)
            tokens.append(token)
    return tokens, False
