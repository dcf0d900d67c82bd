"""The assembler's internals; the public entry points live in isa.assembler.

Pipeline: lexer (tokens of one line) -> parser (statements: labels, directives,
instructions; builds a Program) -> program (sections of items, layout, symbol
resolution, emission) -> isa.elf (the executable file). expressions holds the
constant-expression trees, syntax the instruction forms (table rows and the
pseudo-instruction table), diagnostics the error reporting.
"""
