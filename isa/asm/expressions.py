"""Constant expressions over symbols, and the relocation operators.

Owns the expression grammar and its evaluation. Operators and precedence follow
GNU as (not C): from tightest to loosest binding
    unary  - ~ + !
    *  /  %  <<  >>
    |  &  ^
    +  -
with '/' and '%' truncating toward zero. Operands are integers, character literals,
symbols, '.' (the current location) and the relocation operators %hi, %lo,
%pcrel_hi and %pcrel_lo. Every value is known once the program is laid out (the
output is a linked executable), so "relocations" are computed here: %pcrel_lo(label)
finds the %pcrel_hi of the auipc at `label`, exactly as the GNU linker does.

Trees are built with constant folding, so an expression without symbols is a Num.
Evaluation needs a context (see program.Emitter) that supplies the current pc,
symbol values and the auipc %pcrel_hi targets; errors raise LocatedError.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

from isa.asm.diagnostics import LocatedError
from isa.asm.lexer import Token
from isa.table import sign_extend


class Context(Protocol):
    pc: int

    def symbol_value(self, name: str, display: str, column: int) -> int: ...

    def pcrel_hi_target(self, address: int, column: int) -> int: ...


class SuppressedError(LocatedError):
    """An error already reported elsewhere (in a broken .equ definition)."""

    def __init__(self) -> None:
        super().__init__("", 0)


class Expr:
    __slots__ = ()

    def evaluate(self, ctx: Context) -> int:
        raise NotImplementedError

    def substitute(self, args: dict[str, "Expr"], here: "Expr") -> "Expr":
        """This tree with template placeholders replaced (see syntax.py)."""
        return self


class Num(Expr):
    __slots__ = ("value",)

    def __init__(self, value: int):
        self.value = value

    def evaluate(self, ctx: Context) -> int:
        return self.value


class Sym(Expr):
    """A symbol resolved when evaluated: a label, or a forward-referenced .equ."""

    __slots__ = ("name", "display", "column")

    def __init__(self, name: str, display: str, column: int):
        self.name = name
        self.display = display
        self.column = column

    def evaluate(self, ctx: Context) -> int:
        return ctx.symbol_value(self.name, self.display, self.column)


class Position(Expr):
    """A place in a section: item `index` of `section` (a label, or '.')."""

    __slots__ = ("section", "index")

    def __init__(self, section, index: int):
        self.section = section
        self.index = index

    @property
    def address(self) -> int:
        return self.section.address + self.section.offsets[self.index]

    def evaluate(self, ctx: Context) -> int:
        return self.address


class Placeholder(Expr):
    """An operand name inside a pseudo-instruction template."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def substitute(self, args, here):
        return args[self.name]


class TemplateHere(Expr):
    """'.' inside a template: the address of the instruction being expanded."""

    __slots__ = ()

    def substitute(self, args, here):
        return here


class Unary(Expr):
    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand: Expr):
        self.op = op
        self.operand = operand

    def evaluate(self, ctx: Context) -> int:
        return _UNARY[self.op](self.operand.evaluate(ctx))

    def substitute(self, args, here):
        return unary(self.op, self.operand.substitute(args, here))


class Binary(Expr):
    __slots__ = ("op", "left", "right", "column")

    def __init__(self, op: str, left: Expr, right: Expr, column: int):
        self.op = op
        self.left = left
        self.right = right
        self.column = column

    def evaluate(self, ctx: Context) -> int:
        return _binary_value(self.op, self.left.evaluate(ctx), self.right.evaluate(ctx),
                             self.column)

    def substitute(self, args, here):
        return binary(self.op, self.left.substitute(args, here),
                      self.right.substitute(args, here), self.column)


def _hi20(value: int) -> int:
    return ((value + 0x800) >> 12) & 0xFFFFF


def _lo12(value: int) -> int:
    return sign_extend(value, 12)


class Reloc(Expr):
    """%hi(x) %lo(x) %pcrel_hi(x) %pcrel_lo(label)."""

    __slots__ = ("kind", "operand", "column")

    def __init__(self, kind: str, operand: Expr, column: int):
        self.kind = kind
        self.operand = operand
        self.column = column

    def evaluate(self, ctx: Context) -> int:
        value = self.operand.evaluate(ctx) & 0xFFFFFFFF
        if self.kind == "hi":
            return _hi20(value)
        if self.kind == "lo":
            return _lo12(value)
        if self.kind == "pcrel_hi":
            return _hi20(value - ctx.pc)
        return _lo12(ctx.pcrel_hi_target(value, self.column) - value)

    def pcrel_target(self, ctx: Context) -> int:
        """For %pcrel_hi: the address it refers to."""
        return self.operand.evaluate(ctx) & 0xFFFFFFFF

    def substitute(self, args, here):
        return Reloc(self.kind, self.operand.substitute(args, here), self.column)


RELOCATIONS = ("hi", "lo", "pcrel_hi", "pcrel_lo")

_UNARY: dict[str, Callable[[int], int]] = {
    "-": lambda v: -v, "+": lambda v: v, "~": lambda v: ~v, "!": lambda v: int(v == 0),
}

_MAX_SHIFT = 64


def _binary_value(op: str, a: int, b: int, column: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            raise LocatedError("division by zero", column)
        quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        return quotient if op == "/" else a - quotient * b
    if op in ("<<", ">>"):
        if not 0 <= b < _MAX_SHIFT:
            raise LocatedError(f"shift count {b} out of range [0, {_MAX_SHIFT - 1}]", column)
        return a << b if op == "<<" else a >> b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    return a ^ b


def unary(op: str, operand: Expr) -> Expr:
    if isinstance(operand, Num):
        return Num(_UNARY[op](operand.value))
    return operand if op == "+" else Unary(op, operand)


def binary(op: str, left: Expr, right: Expr, column: int) -> Expr:
    if isinstance(left, Num) and isinstance(right, Num):
        return Num(_binary_value(op, left.value, right.value, column))
    return Binary(op, left, right, column)


# Binary operators by precedence level, loosest first (GNU as levels).
_LEVELS = (("+", "-"), ("|", "&", "^"), ("*", "/", "%", "<<", ">>"))


class ExpressionParser:
    """Parses one expression from a token list.

    `resolve(token)` turns an identifier or local-label token into a node; the
    parser (program symbols) and the template reader (placeholders) supply their own.
    `dot()` gives the node for '.'.
    """

    def __init__(self, resolve: Callable[[Token], Expr], dot: Callable[[], Expr]):
        self.resolve = resolve
        self.dot = dot

    def parse(self, tokens: Sequence[Token], column: int) -> Expr:
        """The expression spanning all of `tokens` (`column`: where it would start)."""
        if not tokens:
            raise LocatedError("expected an expression", column)
        if len(tokens) == 1:  # fast path: the common single-token operand
            return self._primary_token(tokens[0])
        self.tokens = tokens
        self.pos = 0
        expr = self._level(0)
        if self.pos < len(tokens):
            token = tokens[self.pos]
            raise LocatedError(f"unexpected '{token.text}' in expression", token.column)
        return expr

    def _peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self, what: str) -> Token:
        token = self._peek()
        if token is None:
            end = self.tokens[-1]
            raise LocatedError(f"expected {what}", end.column + len(end.text))
        self.pos += 1
        return token

    def _level(self, level: int) -> Expr:
        if level == len(_LEVELS):
            return self._unary()
        ops = _LEVELS[level]
        left = self._level(level + 1)
        while True:
            token = self._peek()
            if token is None or token.kind != "op" or token.text not in ops:
                return left
            self.pos += 1
            left = binary(token.text, left, self._level(level + 1), token.column)

    def _unary(self) -> Expr:
        token = self._next("an expression")
        if token.kind == "op":
            if token.text in _UNARY:
                return unary(token.text, self._unary())
            if token.text == "(":
                inner = self._level(0)
                self._expect(")")
                return inner
            if token.text == "%":
                return self._relocation(token)
            raise LocatedError(f"unexpected '{token.text}' in expression", token.column)
        return self._primary_token(token)

    def _expect(self, text: str) -> None:
        token = self._next(f"'{text}'")
        if token.kind != "op" or token.text != text:
            raise LocatedError(f"expected '{text}'", token.column)

    def _relocation(self, percent: Token) -> Expr:
        name = self._next("a relocation operator after '%'")
        if name.kind != "ident" or name.text not in RELOCATIONS:
            raise LocatedError(f"unknown relocation operator '%{name.text}'", name.column)
        opener = self._next("'('")
        if opener.kind != "op" or opener.text != "(":
            raise LocatedError("expected '(' after relocation operator", opener.column)
        operand = self._level(0)
        self._expect(")")
        return Reloc(name.text, operand, percent.column)

    def _primary_token(self, token: Token) -> Expr:
        if token.kind == "num":
            return Num(token.value)
        if token.kind == "ident":
            return self.dot() if token.text == "." else self.resolve(token)
        if token.kind == "local":
            return self.resolve(token)
        if token.kind == "str":
            raise LocatedError("a string is not allowed in an expression", token.column)
        raise LocatedError(f"unexpected '{token.text}' in expression", token.column)
