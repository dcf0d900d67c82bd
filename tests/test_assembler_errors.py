"""Tests of isa.assembler on bad input: every error is reported, with the right
line and column, in GNU style, and never as a Python traceback."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa.assembler import AssemblyError, Diagnostic, assemble, main
from isa.table import CSR_NAMES, REGISTER_NAMES, instructions


def diagnostics(source: str, filename: str = "<input>", **kw) -> list[Diagnostic]:
    with pytest.raises(AssemblyError) as info:
        assemble(source, filename, **kw)
    return info.value.diagnostics


def column_of(source: str, line: int, marker: str) -> int:
    """1-based column of `marker` on `line` of `source`."""
    return source.splitlines()[line - 1].index(marker) + 1


# ---- one file, many mistakes ------------------------------------------------------------

MANY_MISTAKES = textwrap.dedent("""\
    # a program with one mistake per line from line 3 on
    _start:
            frob    a0, a1
            addi    a0, q7, 1
            addi    a0, a0, 4096
            j       nowhere
            .bogus  1
            .ascii  "abc
            add     a0, a1
            beq     a0, a1, _start + 1
            lw      a0, 4(x32)
            li      a0, 0x100000000
            nop
            slli    a0, a0, 32
            bnez    a0, 1f
            .option rvc
""")

# (line, text the caret points at, part of the message)
EXPECTED = [
    (3, "frob", "unknown instruction 'frob'"),
    (4, "q7", "invalid register 'q7'"),
    (5, "4096", "immediate 4096 out of range [-2048, 2047]"),
    (6, "nowhere", "undefined symbol 'nowhere'"),
    (7, ".bogus", "unknown directive '.bogus'"),
    (8, '"abc', "unterminated string"),
    (9, "add", "'add' takes 3 operands, got 2"),
    (10, "_start + 1", "misaligned branch target"),
    (11, "x32", "invalid register 'x32'"),
    (12, "0x100000000", "not a 32-bit integer"),
    (14, "32", "shift amount 32 out of range"),
    (15, "1f", "undefined local label '1f'"),
    (16, "rvc", "C extension"),
]


def test_all_errors_are_reported_with_line_and_column():
    found = diagnostics(MANY_MISTAKES, "many.s")
    assert [(d.line, d.column) for d in found] == \
        [(line, column_of(MANY_MISTAKES, line, marker)) for line, marker, _ in EXPECTED]
    for diagnostic, (line, _, message) in zip(found, EXPECTED):
        assert message in diagnostic.message
        assert diagnostic.filename == "many.s"
        assert diagnostic.source_line == MANY_MISTAKES.splitlines()[line - 1]


def test_error_text_is_gnu_style_with_caret():
    found = diagnostics("\tnop\n\taddi\ta0, a0, 5000\n", "t.s")
    assert str(found[0]) == ("t.s:2:15: error: immediate 5000 out of range [-2048, 2047]\n"
                             "\taddi\ta0, a0, 5000\n"
                             "\t    \t        ^")
    with pytest.raises(AssemblyError) as info:
        assemble("frob\nnop\nfrob 1", "u.s")
    assert str(info.value) == ("u.s:1:1: error: unknown instruction 'frob'\nfrob\n^\n"
                               "u.s:3:1: error: unknown instruction 'frob'\nfrob 1\n^")


def test_main_reports_errors_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "many.s"
    source.write_text(MANY_MISTAKES)
    explicit = tmp_path / "out.elf"
    assert main([str(source)]) == 1
    assert main([str(source), "-o", str(explicit)]) == 1
    assert not (tmp_path / "many.elf").exists() and not explicit.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.s"]  # no temporary left
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for line, marker, message in EXPECTED:
        column = column_of(MANY_MISTAKES, line, marker)
        assert f"{source}:{line}:{column}: error: " in err


def test_main_reports_missing_input(tmp_path, capsys):
    assert main([str(tmp_path / "absent.s")]) == 1
    assert "cannot read" in capsys.readouterr().err


# ---- each kind of error ---------------------------------------------------------------------

# (source, line of the error, text the caret points at or the column, part of the message)
ERROR_CASES = [
    ("addi a0, a0", 1, "addi", "'addi' takes 3 operands (rd, rs1, imm12), got 2"),
    ("lw a0", 1, "lw", "'lw' takes 2 operands (rd, imm12(rs1)), got 1"),
    ("nop a0", 1, "a0", "takes 0 operands, got 1"),
    ("add a0, a1, a2, a3", 1, "a3", "takes 3 operands, got 4"),
    ("jalr a0, a1, 0, 99", 1, "99", "takes 1, 2 or 3 operands, got 4"),
    ("add a0,, a1", 1, ", a1", "missing operand"),
    ("add a0, a1,", 1, 12, "missing operand after ','"),
    ("lw a0, a1", 1, "a1", "expected a memory operand"),
    ("lw a0, 4(5)", 1, "5", "expected a register"),
    ("amoadd.w a0, a1, 8(a2)", 1, "8(a2)", "takes no offset"),
    ("amoadd.w.xx a0, a1, (a2)", 1, "amoadd.w.xx", "unknown instruction"),
    ("addi.aq a0, a0, 1", 1, "addi.aq", "unknown instruction"),
    ("lui a0, 0x100000", 1, "0x100000", "upper immediate 0x100000 out of range"),
    ("lui a0, -1", 1, "-1", "out of range"),
    ("csrrwi a0, cycle, 32", 1, "32", "CSR immediate 32 out of range"),
    ("csrr a0, 0x1000", 1, "0x1000", "CSR number 0x1000 out of range"),
    ("csrr a0, nosuchcsr", 1, "nosuchcsr", "undefined symbol 'nosuchcsr'"),
    ("fence rx, w", 1, "rx", "fence set"),
    ("fence rr, w", 1, "rr", "fence set"),
    ("beq a0, a1, .+4096", 1, ".+4096", "branch target out of range"),
    ("jal .+0x100000", 1, ".+0x100000", "jump target out of range"),
    ("j .+3", 1, ".+3", "misaligned jump target"),
    ("beq a0, a1, 0x1c", 1, "0x1c", "branch target out of range"),
    ("li a0, -0x80000001", 1, "-0x80000001", "not a 32-bit integer"),
    ("addi a0, a0, 1 +", 1, 17, "expected an expression"),
    ("addi a0, a0, (1", 1, 16, "expected ')'"),
    ("addi a0, a0, 1 2", 1, "2", "unexpected '2'"),
    ("addi a0, a0, 1/0", 1, "/", "division by zero"),
    ("addi a0, a0, 1 << 64", 1, "<<", "shift count 64 out of range"),
    ("addi a0, a0, %foo(1)", 1, "foo", "unknown relocation operator '%foo'"),
    ("addi a0, a0, \"s\"", 1, '"s"', "string is not allowed"),
    ("lw a0, %pcrel_lo(x)(a0)\nx: nop", 1, "%pcrel_lo", "no auipc with %pcrel_hi"),
    ("x: nop\nx: nop", 2, "x", "symbol 'x' is already defined"),
    ("x: nop\n.equ x, 1", 2, "x, 1", "already defined as a label"),
    (".equ a, b\n.equ b, a", 1, "b", "'a' is defined in terms of itself"),
    ("j 1b", 1, "1b", "no local label '1' before '1b'"),
    ("1: j 2f", 1, "2f", "undefined local label '2f'"),
    ("0x10: nop", 1, "0x10", "invalid label"),
    ("addi a0, a0, 12abc", 1, "12abc", "invalid number '12abc'"),
    ("addi a0, a0, 09", 1, "09", "invalid number '09'"),
    ("nop { }", 1, "{", "unexpected character '{'"),
    (".ascii \"a\\qb\"", 1, "\\q", "unknown escape sequence '\\q'"),
    (".ascii abc", 1, "abc", "expected a string"),
    (".byte 256", 1, "256", "does not fit in 1 byte"),
    (".half -32769", 1, "-32769", "does not fit in 2 bytes"),
    (".word 0x100000000", 1, "0x100000000", "does not fit in 4 bytes"),
    (".word undefined_thing", 1, "undefined_thing", "undefined symbol"),
    (".align 13", 1, "13", "out of range [0, 12]"),
    (".balign 3", 1, "3", "not a power of two"),
    (".align later\n.equ later, 2", 1, "later", "expected a constant"),
    (".space -1", 1, "-1", "size -1 out of range"),
    (".zero 1, 2", 1, "2", ".zero takes 1 operand, got 2"),
    (".section .weird", 1, ".weird", "unsupported section '.weird'"),
    (".text 1", 1, "1", ".text takes 0 operands, got 1"),
    (".bss\n.word 1", 2, ".word", "not allowed in .bss"),
    (".bss\nnop", 2, "nop", "instructions are not allowed in .bss"),
    (".bss\n.space 4, 1", 2, "1", "can only hold zeros"),
    (".section .note.GNU-stack\nx: .byte 1", 2, "x", "non-allocated section"),
    (".option rvc", 1, "rvc", "C extension"),
    (".option pic", 1, "pic", "position-independent"),
    (".option pop", 1, "pop", "without .option push"),
    (".option frobnicate", 1, "frobnicate", "unknown option"),
    (".type f, @gnu_indirect_function", 1, "@", "unsupported symbol type"),
    (".globl", 1, ".globl", "takes at least 1 operand, got 0"),
    (".globl 3", 1, "3", "expected a symbol name"),
    (".size f, g\nf: nop", 1, "g", "undefined symbol 'g'"),
    ("/* never closed\nnop", 1, "/*", "unterminated /* comment"),
    (".include \"does-not-exist.s\"", 1, '"does', "cannot find include file"),
    ("3 = 4", 1, "3", "expected a label, directive or instruction"),
    (".size f, -1\nf: nop", 1, "-1", "symbol size -1 out of range"),
    (".bss\n" + ".space 0x4000000\n" * 65, 1, 1, "beyond the 32-bit address space"),
]


@pytest.mark.parametrize("source, line, marker, message", ERROR_CASES,
                         ids=[case[0].split("\n")[-1] for case in ERROR_CASES])
def test_error(source, line, marker, message):
    found = diagnostics(source)
    column = marker if isinstance(marker, int) else column_of(source, line, marker)
    assert [(d.line, d.column) for d in found] == [(line, column)]
    assert message in found[0].message


def test_li_with_unknown_symbol_and_call_to_undefined_report_once():
    source = "call missing\nla a0, gone\nli a1, absent\ntail missing"
    found = diagnostics(source)
    assert [(d.line, d.column, d.message) for d in found] == [
        (1, 6, "undefined symbol 'missing'"), (2, 8, "undefined symbol 'gone'"),
        (3, 8, "undefined symbol 'absent'"), (4, 6, "undefined symbol 'missing'")]


def test_errors_in_included_files_name_that_file(tmp_path):
    (tmp_path / "inc.s").write_text("nop\n  frob\n")
    main_file = tmp_path / "main.s"
    source = 'bogus1\n.include "inc.s"\nbogus2\n'
    main_file.write_text(source)
    found = diagnostics(source, str(main_file))
    assert [(d.filename, d.line, d.column) for d in found] == [
        (str(main_file), 1, 1), (str(tmp_path / "inc.s"), 2, 3), (str(main_file), 3, 1)]


def test_self_inclusion_is_an_error(tmp_path):
    path = tmp_path / "loop.s"
    path.write_text('nop\n.include "loop.s"\n')
    found = diagnostics(path.read_text(), str(path))
    assert [(d.line, d.message) for d in found] == [(2, "'loop.s' includes itself")]


def test_text_base_must_be_word_aligned():
    with pytest.raises(ValueError):
        assemble("nop", text_base=0x10002)


# ---- no input makes the assembler crash --------------------------------------------------------

def _assembles_or_reports(source: str) -> None:
    try:
        assemble(source)
    except AssemblyError as error:
        lines = source.splitlines()
        assert error.diagnostics
        for d in error.diagnostics:
            assert 1 <= d.line <= max(len(lines), 1) and d.column >= 1
            assert str(d).startswith(f"<input>:{d.line}:{d.column}: error: ")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(source):
    _assembles_or_reports(source)


VOCABULARY = (
    [row.name for row in instructions()] + list(REGISTER_NAMES) + list(CSR_NAMES)[:8]
    + ["li", "la", "call", "tail", "j", "ret", "beqz", "csrw", "fence", "amoadd.w.aqrl",
       ".text", ".data", ".bss", ".rodata", ".section", ".word", ".byte", ".half", ".ascii",
       ".asciz", ".align", ".p2align", ".balign", ".space", ".zero", ".equ", ".set",
       ".globl", ".local", ".option", ".type", ".size", ".include",
       "%hi", "%lo", "%pcrel_hi", "%pcrel_lo", "(", ")", ",", ":", ";", "+", "-", "*",
       "/", "%", "<<", ">>", "&", "|", "^", "~", ".", "=", "@function", "1b", "1f", "1:",
       "x:", "x", "y", "0", "1", "-1", "2047", "2048", "0x7fffffff", "4096", "'a'", '"s"',
       '"unterminated', "#", "/*", "*/", "\\", "\t", " "]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCABULARY), max_size=8).map(" ".join), max_size=12))
def test_token_soup_never_crashes(lines):
    _assembles_or_reports("\n".join(lines))
