"""Reading the source: lines into statements, statements into program items.

Owns the statement syntax: `label:` (any number, numeric local labels `1:` included),
then a directive (dispatched to isa.asm.directives), `symbol = expr`, or an
instruction (its form chosen by isa.asm.syntax). ';' separates statements on a line.
An error aborts only its statement; reading always continues with the next one so
that every mistake in the file is reported.

Symbol references are bound while reading: a .equ defined earlier is used with its
value at that point (so `.set x, x+1` works), anything else is looked up by name
once the whole program has been read (labels, forward .equs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from isa.asm import directives
from isa.asm.diagnostics import Location, LocatedError, Reporter, SourceFile
from isa.asm.expressions import Expr, ExpressionParser, Num, Placeholder, Position, Sym
from isa.asm.lexer import Token, tokenize
from isa.asm.program import (Align, Bytes, EquDef, EquRef, InputSection, InstructionItem,
                             LoadImmediate, Program)
from isa.asm.syntax import (LI_FORM, Operand, OperandReader, choose_form,
                            check_li_value, encode_checked, expected_counts, has_target, load_immediate,
                            lookup, read_operands, split_operands)

MAX_INCLUDE_DEPTH = 32
LOCAL_LABEL_SEPARATOR = "\x02"  # internal names of numeric labels: "1\x023"


class Parser:
    def __init__(self, program: Program, reporter: Reporter, include_dirs: Sequence[Path]):
        self.program = program
        self.reporter = reporter
        self.include_dirs = list(include_dirs)
        self.section: InputSection = program.sections[".text"]
        self.local_label_counts: dict[int, int] = {}
        self.includes: list[Path] = []  # files being read, outermost first
        self.option_depth = 0  # .option push nesting
        self.lines_read = 0
        self.expressions = ExpressionParser(self._resolve, self._dot)
        self.operands = OperandReader(self.expressions)

    # ---- lines and statements ------------------------------------------------------
    def parse(self, source: SourceFile, directory: Path) -> None:
        """Read every line of `source`; `directory` is where its .includes start."""
        in_comment = False
        comment_start: tuple[Location, int] | None = None
        for number, line in enumerate(source.lines, 1):
            self.lines_read += 1
            location = Location(source, number, self.lines_read)
            was_in_comment = in_comment
            try:
                tokens, in_comment = tokenize(line, in_comment)
            except LocatedError as error:
                self.error(location, error.column, error.message)
                in_comment = False
                continue
            if in_comment and not was_in_comment:
                comment_start = (location, line.rfind("/*"))
            if tokens:
                self._statements(tokens, location, directory)
        if in_comment and comment_start is not None:
            self.error(*comment_start, "unterminated /* comment")

    def finish(self) -> None:
        """End of input. GNU as pads each code section to its alignment with nops."""
        for section in self.program.sections.values():
            if section.output == ".text":
                section.items.append(Align(section.alignment, None, None, code=True))

    def _statements(self, tokens: list[Token], location: Location, directory: Path) -> None:
        start = 0
        for i, token in enumerate(tokens):
            if token.text == ";" and token.kind == "op":
                self._statement(tokens[start:i], location, directory)
                start = i + 1
        self._statement(tokens[start:] if start else tokens, location, directory)

    def _statement(self, tokens: list[Token], location: Location, directory: Path) -> None:
        try:
            i = 0
            n = len(tokens)
            while (i + 1 < n and tokens[i + 1].text == ":" and tokens[i + 1].kind == "op"
                   and tokens[i].kind in ("ident", "num")):
                self._define_label(tokens[i], location)
                i += 2
            if i == n:
                return
            head = tokens[i]
            rest = tokens[i + 1:]
            if head.kind != "ident":
                raise LocatedError("expected a label, directive or instruction", head.column)
            if rest and rest[0].text == "=" and rest[0].kind == "op":
                self.define_equ(head, rest[1:], location, rest[0].column + 1)
            elif head.text.startswith("."):
                operands = split_operands(rest, allow_empty=True)
                directives.run(self, head, operands, location, directory)
            else:
                self._instruction(head, rest, location)
        except LocatedError as error:
            self.error(location, error.column, error.message)

    def error(self, location: Location, column: int, message: str) -> None:
        self.reporter.error(location, column, message)

    # ---- symbols -------------------------------------------------------------------------
    def _define_label(self, token: Token, location: Location) -> None:
        if self.section.output == "":
            self.error(location, token.column,
                       f"label in non-allocated section {self.section.name}")
            return
        if token.kind == "num":
            if not token.text.isdigit():
                self.error(location, token.column, f"invalid label '{token.text}'")
                return
            count = self.local_label_counts.get(token.value, 0) + 1
            self.local_label_counts[token.value] = count
            name = f"{token.value}{LOCAL_LABEL_SEPARATOR}{count}"
        else:
            name = token.text
            if name == "." or name in self.program.symbols:
                self.error(location, token.column, f"symbol '{name}' is already defined")
                return
        self.program.symbols[name] = Position(self.section, len(self.section.items))

    def define_equ(self, name: Token, value_tokens: Sequence[Token], location: Location,
                   column: int) -> None:
        if name.kind != "ident" or name.text == ".":
            raise LocatedError("expected a symbol name", name.column)
        existing = self.program.symbols.get(name.text)
        if existing is not None and not isinstance(existing, EquDef):
            raise LocatedError(f"symbol '{name.text}' is already defined as a label",
                               name.column)
        expr = self.expressions.parse(value_tokens, column)
        definition = EquDef(name.text, expr, location, column)
        self.program.equs.append(definition)
        self.program.symbols[name.text] = definition

    def _resolve(self, token: Token) -> Expr:
        if token.kind == "local":
            number, direction = token.value
            count = self.local_label_counts.get(number, 0)
            if direction == "b":
                if count == 0:
                    raise LocatedError(f"no local label '{number}' before '{token.text}'",
                                       token.column)
            else:
                count += 1
            return Sym(f"{number}{LOCAL_LABEL_SEPARATOR}{count}", token.text, token.column)
        entry = self.program.symbols.get(token.text)
        if isinstance(entry, EquDef):
            return Num(entry.constant) if entry.constant is not None else EquRef(entry)
        if entry is not None:
            return entry
        return Sym(token.text, token.text, token.column)

    def _dot(self) -> Expr:
        return Position(self.section, len(self.section.items))

    # ---- operands used by directives --------------------------------------------------
    def expression(self, operand: Operand) -> Expr:
        return self.expressions.parse(*operand)

    def constant(self, operand: Operand) -> int:
        """An expression whose value must be known now (sizes, alignments)."""
        expr = self.expression(operand)
        if not isinstance(expr, Num):
            raise LocatedError("expected a constant (symbols must be .equ'd before use)",
                               operand[1])
        return expr.value

    def add(self, item) -> None:
        self.section.items.append(item)

    # ---- instructions ---------------------------------------------------------------------
    def _instruction(self, head: Token, rest: list[Token], location: Location) -> None:
        found = lookup(head.text)
        if found is None:
            raise LocatedError(f"unknown instruction '{head.text}'", head.column)
        forms, aqrl = found
        operands = split_operands(rest)
        form = choose_form(forms, operands)
        if form is None:
            maximum = max(len(f.operands) for f in forms)
            column = operands[maximum][1] if len(operands) > maximum else head.column
            raise LocatedError(f"'{head.text}' takes {expected_counts(forms)}, "
                               f"got {len(operands)}", column)
        if self.section.output == ".bss":
            raise LocatedError("instructions are not allowed in .bss", head.column)
        args, columns = read_operands(form, self.operands, operands)
        if form is LI_FORM:
            self._load_immediate(args["rd"], args["value"], columns, location)
            return
        for row, template in form.expansion:
            here = self._dot()
            fields = {}
            field_columns = {}
            for field, value in template.items():
                column = head.column
                if not isinstance(value, int):
                    if isinstance(value, Placeholder):
                        column = columns[value.name]
                    value = value.substitute(args, here)
                    if isinstance(value, Num):
                        value = value.value
                fields[field] = value
                field_columns[field] = column
            if row.has_aqrl:
                fields["aqrl"] = aqrl
            self._add_instruction(row, fields, field_columns, location)

    def _add_instruction(self, row, fields: dict, columns: dict, location: Location) -> None:
        if has_target(row) or not all(isinstance(v, int) for v in fields.values()):
            self.add(InstructionItem(row, fields, columns, location))
        else:
            self.add(Bytes(encode_checked(row, fields, columns, None).to_bytes(4, "little")))

    def _load_immediate(self, rd: int, value: Expr, columns: dict, location: Location) -> None:
        if not isinstance(value, Num):
            self.add(LoadImmediate(rd, value, columns["value"], location))
            return
        check_li_value(value.value, columns["value"])
        for row, fields in load_immediate(rd, value.value):
            self._add_instruction(row, fields, {}, location)

    # ---- includes --------------------------------------------------------------------------
    def include(self, name: str, directory: Path, column: int, location: Location) -> None:
        path = Path(name)
        candidates = [path] if path.is_absolute() else \
            [directory / path] + [Path(d) / path for d in self.include_dirs]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise LocatedError(f"cannot find include file '{name}'", column)
        resolved = found.resolve()
        if resolved in self.includes:
            raise LocatedError(f"'{name}' includes itself", column)
        if len(self.includes) >= MAX_INCLUDE_DEPTH:
            raise LocatedError(".include nested too deeply", column)
        try:
            text = found.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as error:
            raise LocatedError(f"cannot read include file '{name}': {error.strerror}",
                               column) from None
        self.includes.append(resolved)
        try:
            self.parse(SourceFile(str(found), text), found.parent)
        finally:
            self.includes.pop()
