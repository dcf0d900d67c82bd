"""Tests of isa.assembler on valid input: encodings, pseudo-instructions, directives,
symbols and the ELF file; and, when the GNU RISC-V tools are installed, agreement
with riscv64-unknown-elf-as + ld on whole programs."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import textwrap

import pytest
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile
from hypothesis import given, settings
from hypothesis import strategies as st

from isa.assembler import assemble, assemble_file, main
from isa.table import (CSR_BY_NUMBER, IMM_RANGES, REGISTER_NAMES, by_name, decode_fields,
                       encode, instructions, lookup, sign_extend)

TEXT = 0x10000  # default text_base
ROWS = by_name()


def elf(source: str, **kw) -> ELFFile:
    return ELFFile(io.BytesIO(assemble(textwrap.dedent(source), **kw)))


def section(source: str, name: str = ".text", **kw) -> bytes:
    return elf(source, **kw).get_section_by_name(name).data()


def words(source: str, **kw) -> list[int]:
    data = section(source, **kw)
    return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]


def symbols(image: ELFFile) -> dict:
    return {s.name: s for s in image.get_section_by_name(".symtab").iter_symbols() if s.name}


def enc(name: str, **fields) -> int:
    return encode(ROWS[name], **fields)


# ---- every table row: assembling its syntax gives table.encode ---------------------------

REG = st.integers(0, 31)
FENCE_LETTERS = "iorw"


def _register_text(draw, number: int) -> str:
    spellings = [f"x{number}", REGISTER_NAMES[number]] + (["fp"] if number == 8 else [])
    return draw(st.sampled_from(spellings))


def _fence_text(value: int) -> str:
    return "".join(c for i, c in enumerate(FENCE_LETTERS) if value & (8 >> i)) or "0"


@st.composite
def row_instance(draw, row, pc: int):
    """Source text for `row` at `pc` with random operands, and its field values."""
    fields: dict[str, int] = {}

    def value(field: str) -> str:
        if field in ("rd", "rs1", "rs2"):
            fields[field] = draw(REG)
            return _register_text(draw, fields[field])
        if field in ("pred", "succ"):
            fields[field] = draw(st.integers(0, 15))
            return _fence_text(fields[field])
        lo, hi, align = IMM_RANGES[field]
        number = fields[field] = draw(st.integers(lo // align, hi // align)) * align
        if field in ("btarget", "jtarget"):  # written as the absolute target address
            return hex(pc + number)
        if field == "csr" and number in CSR_BY_NUMBER and draw(st.booleans()):
            return CSR_BY_NUMBER[number]
        return draw(st.sampled_from([str(number), hex(number)]))

    operands = []
    for spec in row.operands:
        if spec == "imm12(rs1)":
            offset = value("imm12")
            operands.append(f"{offset}({value('rs1')})")
        elif spec == "(rs1)":
            operands.append(f"({value('rs1')})")
        else:
            operands.append(value(spec))
    mnemonic = row.name
    if row.has_aqrl:
        fields["aqrl"] = draw(st.integers(0, 3))
        mnemonic += ("", ".rl", ".aq", ".aqrl")[fields["aqrl"]]
    return f"{mnemonic} {', '.join(operands)}", fields


@pytest.mark.parametrize("row", instructions(), ids=lambda row: row.name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_row_assembles_to_table_encoding(row, data):
    count = data.draw(st.integers(1, 6))
    lines, expected = [], []
    for k in range(count):
        text, fields = data.draw(row_instance(row, TEXT + 4 * k))
        lines.append(text)
        expected.append(encode(row, **fields))
    assert words("\n".join(lines))[:count] == expected


# ---- li ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (0, [enc("addi", rd=10, rs1=0, imm12=0)]),
    (2047, [enc("addi", rd=10, rs1=0, imm12=2047)]),
    (-2048, [enc("addi", rd=10, rs1=0, imm12=-2048)]),
    (2048, [enc("lui", rd=10, imm20=1), enc("addi", rd=10, rs1=10, imm12=-2048)]),
    (0x7FF800, [enc("lui", rd=10, imm20=0x800), enc("addi", rd=10, rs1=10, imm12=-2048)]),
    (0x80000000, [enc("lui", rd=10, imm20=0x80000)]),
    (0xFFFFFFFF, [enc("addi", rd=10, rs1=0, imm12=-1)]),
    (0x12345678, [enc("lui", rd=10, imm20=0x12345), enc("addi", rd=10, rs1=10, imm12=0x678)]),
    (-1, [enc("addi", rd=10, rs1=0, imm12=-1)]),
    (0x1000, [enc("lui", rd=10, imm20=1)]),
    (-0x80000000, [enc("lui", rd=10, imm20=0x80000)]),
])
def test_li_edge_cases(value, expected):
    assert words(f"li a0, {value}") == expected


def _run_li(sequence: list[int]) -> int:
    """Execute a lui/addi sequence and return the register value."""
    register = 0
    for word in sequence:
        row = lookup(word)
        fields = decode_fields(row, word)
        if row.name == "lui":
            register = fields["imm20"] << 12
        else:
            assert row.name == "addi"
            base = register if fields["rs1"] else 0
            register = base + fields["imm12"]
    return register & 0xFFFFFFFF


@given(st.integers(-(1 << 31), (1 << 32) - 1))
def test_li_loads_any_32_bit_value_with_fewest_instructions(value):
    sequence = words(f"li a0, {value}")
    assert _run_li(sequence) == value & 0xFFFFFFFF
    one = -2048 <= sign_extend(value, 32) <= 2047 or value & 0xFFF == 0
    assert len(sequence) == (1 if one else 2)


def test_li_of_label_and_forward_equ_uses_final_value():
    image = elf("""
        li a0, SMALL
        li a1, target
        target: nop
        .equ SMALL, 12
    """)
    address = symbols(image)["target"]["st_value"]
    text = image.get_section_by_name(".text").data()
    sequence = [int.from_bytes(text[i:i + 4], "little") for i in range(0, 12, 4)]
    assert sequence[0] == enc("addi", rd=10, rs1=0, imm12=12)
    assert _run_li(sequence[1:3]) == address == TEXT + 12


# ---- pseudo-instructions ---------------------------------------------------------------------

# (source at TEXT, expected (row, fields) list). Targets are offsets from each pc.
PSEUDO_CASES = [
    ("nop", [("addi", dict(rd=0, rs1=0, imm12=0))]),
    ("mv a0, a1", [("addi", dict(rd=10, rs1=11, imm12=0))]),
    ("not a0, a1", [("xori", dict(rd=10, rs1=11, imm12=-1))]),
    ("neg a0, a1", [("sub", dict(rd=10, rs1=0, rs2=11))]),
    ("seqz a0, a1", [("sltiu", dict(rd=10, rs1=11, imm12=1))]),
    ("snez a0, a1", [("sltu", dict(rd=10, rs1=0, rs2=11))]),
    ("sltz a0, a1", [("slt", dict(rd=10, rs1=11, rs2=0))]),
    ("sgtz a0, a1", [("slt", dict(rd=10, rs1=0, rs2=11))]),
    ("sgt a0, a1, a2", [("slt", dict(rd=10, rs1=12, rs2=11))]),
    ("sgtu a0, a1, a2", [("sltu", dict(rd=10, rs1=12, rs2=11))]),
    ("sext.b a0, a1", [("slli", dict(rd=10, rs1=11, shamt=24)),
                       ("srai", dict(rd=10, rs1=10, shamt=24))]),
    ("zext.b a0, a1", [("andi", dict(rd=10, rs1=11, imm12=255))]),
    ("beqz a0, .+8", [("beq", dict(rs1=10, rs2=0, btarget=8))]),
    ("bnez a0, .-8", [("bne", dict(rs1=10, rs2=0, btarget=-8))]),
    ("blez a0, .+16", [("bge", dict(rs1=0, rs2=10, btarget=16))]),
    ("bgez a0, .+16", [("bge", dict(rs1=10, rs2=0, btarget=16))]),
    ("bltz a0, .+16", [("blt", dict(rs1=10, rs2=0, btarget=16))]),
    ("bgtz a0, .+16", [("blt", dict(rs1=0, rs2=10, btarget=16))]),
    ("bgt a0, a1, .+4", [("blt", dict(rs1=11, rs2=10, btarget=4))]),
    ("ble a0, a1, .+4", [("bge", dict(rs1=11, rs2=10, btarget=4))]),
    ("bgtu a0, a1, .+4", [("bltu", dict(rs1=11, rs2=10, btarget=4))]),
    ("bleu a0, a1, .+4", [("bgeu", dict(rs1=11, rs2=10, btarget=4))]),
    ("j .+2048", [("jal", dict(rd=0, jtarget=2048))]),
    ("jal .-4", [("jal", dict(rd=1, jtarget=-4))]),
    ("jr a0", [("jalr", dict(rd=0, rs1=10, imm12=0))]),
    ("jalr a0", [("jalr", dict(rd=1, rs1=10, imm12=0))]),
    ("jalr t0, a0, -4", [("jalr", dict(rd=5, rs1=10, imm12=-4))]),
    ("ret", [("jalr", dict(rd=0, rs1=1, imm12=0))]),
    ("call .+0x1234", [("auipc", dict(rd=1, imm20=1)), ("jalr", dict(rd=1, rs1=1, imm12=0x234))]),
    ("call .-4", [("auipc", dict(rd=1, imm20=0)), ("jalr", dict(rd=1, rs1=1, imm12=-4))]),
    ("tail .+0x800", [("auipc", dict(rd=6, imm20=1)),
                      ("jalr", dict(rd=0, rs1=6, imm12=-2048))]),
    ("la a0, .+0x12345678", [("auipc", dict(rd=10, imm20=0x12345)),
                             ("addi", dict(rd=10, rs1=10, imm12=0x678))]),
    ("lla a0, .-0x10", [("auipc", dict(rd=10, imm20=0)),
                        ("addi", dict(rd=10, rs1=10, imm12=-0x10))]),
    ("lla a0, .-0x1000", [("auipc", dict(rd=10, imm20=0xFFFFF)),
                          ("addi", dict(rd=10, rs1=10, imm12=0))]),
    ("fence", [("fence", dict(pred=15, succ=15))]),
    ("csrr a0, cycle", [("csrrs", dict(rd=10, csr=0xC00, rs1=0))]),
    ("csrw instret, a1", [("csrrw", dict(rd=0, csr=0xC02, rs1=11))]),
    ("csrs time, a1", [("csrrs", dict(rd=0, csr=0xC01, rs1=11))]),
    ("csrc 0xc80, a1", [("csrrc", dict(rd=0, csr=0xC80, rs1=11))]),
    ("csrwi cycle, 3", [("csrrwi", dict(rd=0, csr=0xC00, zimm=3))]),
    ("csrsi cycle, 31", [("csrrsi", dict(rd=0, csr=0xC00, zimm=31))]),
    ("csrci cycle, 1", [("csrrci", dict(rd=0, csr=0xC00, zimm=1))]),
    ("rdcycle a0", [("csrrs", dict(rd=10, csr=0xC00, rs1=0))]),
    ("rdtime a0", [("csrrs", dict(rd=10, csr=0xC01, rs1=0))]),
    ("rdinstret a0", [("csrrs", dict(rd=10, csr=0xC02, rs1=0))]),
    ("rdcycleh a0", [("csrrs", dict(rd=10, csr=0xC80, rs1=0))]),
    ("rdtimeh a0", [("csrrs", dict(rd=10, csr=0xC81, rs1=0))]),
    ("rdinstreth a0", [("csrrs", dict(rd=10, csr=0xC82, rs1=0))]),
    ("add a0, a1, 5", [("addi", dict(rd=10, rs1=11, imm12=5))]),
    ("sll a0, a1, 5", [("slli", dict(rd=10, rs1=11, shamt=5))]),
]


@pytest.mark.parametrize("source, expected", PSEUDO_CASES, ids=[c[0] for c in PSEUDO_CASES])
def test_pseudo_instruction_expansion(source, expected):
    assert words(source) == [enc(name, **fields) for name, fields in expected]


def test_branch_to_absolute_number_is_a_target_address():
    assert words("beq a0, a1, 0x1c", text_base=0) == [enc("beq", rs1=10, rs2=11, btarget=0x1C)]
    assert words("nop\nj 0", text_base=0)[1] == enc("jal", rd=0, jtarget=-4)


# ---- relocation operators ---------------------------------------------------------------------

@given(st.integers(0, 0xFFFFFFFF))
def test_hi_lo_rebuild_the_value(value):
    lui, addi = words(f".equ V, {value}\nlui a0, %hi(V)\naddi a0, a0, %lo(V)")
    assert _run_li([lui, addi]) == value


def test_pcrel_pair_addresses_the_symbol():
    image = elf("""
        nop
        1: auipc a0, %pcrel_hi(message)
        addi a0, a0, %pcrel_lo(1b)
        here: auipc a1, %pcrel_hi(message + 3)
        lw a2, %pcrel_lo(here)(a1)
        .data
        .space 0x900
        message: .asciz "hi"
    """)
    text = image.get_section_by_name(".text").data()
    w = [int.from_bytes(text[i:i + 4], "little") for i in range(0, 20, 4)]
    message = symbols(image)["message"]["st_value"]
    for auipc_index, lo_word, addend in ((1, w[2], 0), (3, w[4], 3)):
        pc = TEXT + 4 * auipc_index
        hi = decode_fields(ROWS["auipc"], w[auipc_index])["imm20"]
        lo = decode_fields(lookup(lo_word), lo_word)["imm12"]
        assert (pc + (hi << 12) + lo) & 0xFFFFFFFF == message + addend


# ---- labels and expressions ----------------------------------------------------------------

def test_numeric_local_labels_bind_to_nearest_definition():
    assert words("""
        1: j 1f
        1: j 1b
        j 1b
        1: beqz a0, 1b
        2: bnez a0, 2f
        2: nop
    """) == [
        enc("jal", rd=0, jtarget=4), enc("jal", rd=0, jtarget=0), enc("jal", rd=0, jtarget=-4),
        enc("beq", rs1=10, rs2=0, btarget=0), enc("bne", rs1=10, rs2=0, btarget=4),
        enc("addi"),
    ]


def test_expression_operators_and_precedence():
    # GNU as precedence: * / % << >> bind tighter than | & ^, which bind tighter than + -.
    data = section("""
        .data
        .word 1 + 2 * 3, (1 + 2) * 3, 7 / 2, -7 / 2, -7 % 2, 1 << 4 | 1, 2 + 3 | 4
        .word ~0, -(3), 0x10 ^ 0x11, 0b101 & 6, 010, 'a', '\\n', 100 >> 2
    """, ".data")
    values = [int.from_bytes(data[i:i + 4], "little", signed=True)
              for i in range(0, len(data), 4)]
    assert values == [7, 9, 3, -3, -1, 17, 9, -1, -3, 1, 4, 8, 97, 10, 25]


def test_equ_set_and_symbol_differences():
    data = section("""
        .equ FOUR, 4
        .set counter, 1
        .set counter, counter + 1
        start: nop
        nop
        end:
        .equ LENGTH, end - start
        .data
        .word FOUR * 2, counter, LENGTH, LATER, . - 4
        .equ LATER, FOUR + 1
        NAME = 9
        .byte NAME
    """, ".data")
    assert list(data[:16]) == list(b"\x08\0\0\0\x02\0\0\0\x08\0\0\0\x05\0\0\0")
    assert int.from_bytes(data[16:20], "little") == 0x11000 + 16 - 4
    assert data[20] == 9


# ---- data and alignment ------------------------------------------------------------------------

def test_data_directives_little_endian():
    data = section("""
        .data
        .byte 1, 255, -1
        .half 0x1234
        .short -2
        .2byte 3
        .word 0xdeadbeef
        .long 5
        .4byte 6
        .dword 0x0102030405060708
        .ascii "ab", "c"
        .asciz "d"
        .string "e\\t\\\\\\"\\0\\x41\\101"
        .zero 2
        .space 3, 0x5a
        .skip 1
    """, ".data")
    assert data == (b"\x01\xff\xff" + b"\x34\x12" + b"\xfe\xff" + b"\x03\x00"
                    + b"\xef\xbe\xad\xde" + b"\x05\0\0\0" + b"\x06\0\0\0"
                    + bytes([8, 7, 6, 5, 4, 3, 2, 1]) + b"abc" + b"d\0"
                    + b'e\t\\"\0AA\0' + b"\0\0" + b"ZZZ" + b"\0")


def test_word_of_label_is_its_absolute_address():
    image = elf(".data\nptr: .word target, ptr\n.text\ntarget: nop")
    data = image.get_section_by_name(".data").data()
    assert int.from_bytes(data[:4], "little") == TEXT
    assert int.from_bytes(data[4:8], "little") == symbols(image)["ptr"]["st_value"]


NOP = enc("addi").to_bytes(4, "little")
C_NOP = b"\x01\x00"  # GNU as pads a 2-byte gap in code with c.nop, an odd byte with 0


def word(value: int) -> bytes:
    return value.to_bytes(4, "little")


@pytest.mark.parametrize("source, expected", [
    (".byte 1\n.align 3\n.byte 2", b"\x01" + b"\0" + C_NOP + NOP + b"\x02" + b"\0" + C_NOP + NOP),
    (".word 1\n.p2align 4\n.word 2", word(1) + NOP * 3 + word(2) + NOP * 3),
    (".byte 1, 2\n.balign 4\n.byte 3", b"\x01\x02" + C_NOP + b"\x03" + b"\0" + C_NOP),
    (".byte 1\n.balign 4, 0xaa\n.byte 3", b"\x01\xaa\xaa\xaa\x03" + b"\0" + C_NOP),
    (".word 1\n.p2align 4,,8\n.word 2", word(1) + word(2) + NOP * 2),
    (".word 1\n.p2align 3,,4\n.word 2", word(1) + NOP + word(2) + NOP),
])
def test_alignment_in_code_pads_with_nops(source, expected):
    # The code section's end is padded to its alignment too, as GNU as does.
    assert section(source) == expected


def test_alignment_in_data_pads_with_zeros_and_aligns_the_section():
    image = elf(".data\n.byte 1\n.align 2\n.byte 2\n.balign 8, 0xee\n.byte 3\n"
                ".bss\n.zero 1\n.p2align 4\nbuf: .space 16")
    assert image.get_section_by_name(".data").data() == b"\x01\0\0\0\x02" + b"\xee" * 3 + b"\x03"
    assert image.get_section_by_name(".data")["sh_addralign"] == 8
    assert symbols(image)["buf"]["st_value"] % 16 == 0


# ---- sections, include, symbols, entry -------------------------------------------------------

def test_section_names_map_by_prefix():
    image = elf("""
        .section .rodata.str1.1, "aMS", @progbits, 1
        ro: .byte 1
        .section .srodata
        .byte 2
        .section .sdata, "aw"
        sd: .word 3
        .section .sbss
        sb: .zero 4
        .section .text.startup, "ax", @progbits
        startup: nop
        .text
        main: nop
        .section .note.GNU-stack, "", @progbits
    """)
    table = symbols(image)
    assert image.get_section_by_name(".rodata").data() == b"\x01\x02"
    assert image.get_section_by_name(".data").data() == b"\x03\0\0\0"
    assert image.get_section_by_name(".bss")["sh_size"] == 4
    # .text input section first, then .text.startup, as GNU ld's *(.text .text.*)
    assert table["main"]["st_value"] == TEXT
    assert table["startup"]["st_value"] == TEXT + 4
    for name, section_name in (("ro", ".rodata"), ("sd", ".data"), ("sb", ".bss"),
                               ("main", ".text")):
        assert image.get_section(table[name]["st_shndx"]).name == section_name


def test_include_searches_including_directory_then_include_dirs(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "lib" / "inner.s").write_text("inner: addi a0, a0, VALUE\n")
    (tmp_path / "lib" / "outer.s").write_text('.include "inner.s"\nouter: nop\n')
    (tmp_path / "other" / "consts.s").write_text(".equ VALUE, 7\n")
    main_file = tmp_path / "main.s"
    main_file.write_text('.include "consts.s"\n.include "lib/outer.s"\nj inner\n')
    image = ELFFile(io.BytesIO(assemble_file(main_file, include_dirs=[tmp_path / "other"])))
    text = image.get_section_by_name(".text").data()
    assert int.from_bytes(text[:4], "little") == enc("addi", rd=10, rs1=10, imm12=7)
    assert int.from_bytes(text[8:12], "little") == enc("jal", rd=0, jtarget=-8)
    assert set(symbols(image)) >= {"inner", "outer", "VALUE"}


def test_symbol_table_contents():
    image = elf("""
        .globl _start, shared
        .local hidden
        .globl hidden
        .local hidden
        .equ LIMIT, 100
        .type helper, @function
        _start: call helper
        .L_internal: j .L_internal
        1: j 1b
        helper: ret
        .size helper, . - helper
        .data
        shared: .word 1
        .type table, @object
        table: .word 2, 3
        .size table, 8
        hidden: .byte 0
    """)
    table = symbols(image)
    assert set(table) == {"_start", "shared", "hidden", "LIMIT", "helper", "table"}
    binding = {name: s["st_info"]["bind"] for name, s in table.items()}
    assert binding == {"_start": "STB_GLOBAL", "shared": "STB_GLOBAL", "hidden": "STB_LOCAL",
                       "LIMIT": "STB_LOCAL", "helper": "STB_LOCAL", "table": "STB_LOCAL"}
    assert table["_start"]["st_value"] == TEXT
    assert table["helper"]["st_value"] == TEXT + 16
    assert (table["helper"]["st_info"]["type"], table["helper"]["st_size"]) == ("STT_FUNC", 4)
    assert (table["table"]["st_info"]["type"], table["table"]["st_size"]) == ("STT_OBJECT", 8)
    assert table["LIMIT"]["st_shndx"] == "SHN_ABS" and table["LIMIT"]["st_value"] == 100
    assert table["shared"]["st_value"] == 0x11000
    symtab = image.get_section_by_name(".symtab")
    locals_first = [s["st_info"]["bind"] for s in symtab.iter_symbols()][1:]
    assert locals_first == sorted(locals_first, key=lambda b: b == "STB_GLOBAL")
    assert symtab["sh_info"] == 1 + locals_first.count("STB_LOCAL")


@pytest.mark.parametrize("source, entry", [
    ("nop\n_start: nop", TEXT + 4),
    ("nop\nnop", TEXT),
    (".data\n.word 0\n.text\nmain: nop", TEXT),
])
def test_entry_point(source, entry):
    assert elf(source).header["e_entry"] == entry


def test_text_base_moves_everything():
    image = elf("_start: la a0, value\n.data\nvalue: .word 7", text_base=0x400000)
    assert image.header["e_entry"] == 0x400000
    assert image.get_section_by_name(".text")["sh_addr"] == 0x400000
    assert symbols(image)["value"]["st_value"] == 0x401000


# ---- the ELF file ----------------------------------------------------------------------------

SAMPLE = """
    .globl _start
    _start: la a0, message
    li a7, 93
    ecall
    .section .rodata
    message: .asciz "hello"
    .data
    counter: .word 1
    .bss
    buffer: .space 100
"""


def test_elf_header_segments_and_sections():
    image = elf(SAMPLE)
    header = image.header
    assert (header["e_ident"]["EI_CLASS"], header["e_ident"]["EI_DATA"]) == ("ELFCLASS32", "ELFDATA2LSB")
    assert (header["e_type"], header["e_machine"], header["e_flags"]) == ("ET_EXEC", "EM_RISCV", 0)
    names = [s.name for s in image.iter_sections()]
    assert names == ["", ".text", ".rodata", ".data", ".bss", ".symtab", ".strtab", ".shstrtab"]
    text = image.get_section_by_name(".text")
    assert (text["sh_addr"], text["sh_offset"]) == (TEXT, 0x1000)
    rodata = image.get_section_by_name(".rodata")
    assert rodata["sh_addr"] == TEXT + text["sh_size"]
    data = image.get_section_by_name(".data")
    assert data["sh_addr"] % 0x1000 == 0 and data["sh_addr"] > rodata["sh_addr"]
    bss = image.get_section_by_name(".bss")
    assert (bss["sh_type"], bss["sh_size"]) == ("SHT_NOBITS", 100)
    segments = [s for s in image.iter_segments() if s["p_type"] == "PT_LOAD"]
    assert len(segments) == 2
    code, rw = segments
    assert code["p_flags"] == P_FLAGS.PF_R | P_FLAGS.PF_X
    assert rw["p_flags"] == P_FLAGS.PF_R | P_FLAGS.PF_W
    assert (code["p_vaddr"], code["p_filesz"]) == (TEXT, rodata["sh_addr"] + rodata["sh_size"] - TEXT)
    assert (rw["p_vaddr"], rw["p_filesz"], rw["p_memsz"]) == (
        data["sh_addr"], 4, bss["sh_addr"] + 100 - data["sh_addr"])
    for segment in segments:
        assert segment["p_offset"] % 0x1000 == segment["p_vaddr"] % 0x1000
        assert segment["p_align"] == 0x1000
    assert image.get_section_by_name(".rodata").data() == b"hello\0"


def test_program_without_data_has_one_segment():
    image = elf("nop")
    assert [s["p_type"] for s in image.iter_segments()] == ["PT_LOAD"]


READELF = shutil.which("riscv64-unknown-elf-readelf") or shutil.which("readelf")


@pytest.mark.skipif(READELF is None, reason="readelf is not installed")
def test_readelf_has_no_complaints(tmp_path):
    path = tmp_path / "sample.elf"
    path.write_bytes(assemble(textwrap.dedent(SAMPLE)))
    result = subprocess.run([READELF, "-a", "-W", str(path)], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stderr == ""
    assert "Warning" not in result.stdout and "Error" not in result.stdout


# ---- the command line ------------------------------------------------------------------------

def test_main_writes_elf_next_to_input_by_default(tmp_path):
    source = tmp_path / "prog.s"
    source.write_text(SAMPLE)
    assert main([str(source)]) == 0
    assert (tmp_path / "prog.elf").read_bytes() == assemble(SAMPLE, str(source))


def test_main_output_and_include_options(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "defs.s").write_text(".equ CODE, 42\n")
    source = tmp_path / "prog.s"
    source.write_text('.include "defs.s"\nli a0, CODE\n')
    out = tmp_path / "out" / "x.bin"
    out.parent.mkdir()
    assert main([str(source), "-o", str(out), "-I", str(tmp_path / "inc")]) == 0
    assert ELFFile(io.BytesIO(out.read_bytes())).get_section_by_name(".text").data()[:4] \
        == enc("addi", rd=10, rs1=0, imm12=42).to_bytes(4, "little")


# ---- agreement with the GNU toolchain ----------------------------------------------------------

GNU_AS = shutil.which("riscv64-unknown-elf-as")
GNU_LD = shutil.which("riscv64-unknown-elf-ld")
OBJDUMP = shutil.which("riscv64-unknown-elf-objdump")
gnu_tools = pytest.mark.skipif(not (GNU_AS and GNU_LD and OBJDUMP),
                               reason="riscv64-unknown-elf binutils are not installed")

# The memory layout the emu assembler uses, for GNU ld: .text at 0x10000, .rodata after
# it, .data on the next page, then .bss.
LINKER_SCRIPT = """
ENTRY(_start)
SECTIONS {
  . = 0x10000;
  .text : { *(.text .text.*) }
  .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
  . = ALIGN(0x1000);
  .data : { *(.data .data.* .sdata .sdata.*) }
  .bss : { *(.bss .bss.* .sbss .sbss.*) }
}
"""

GNU_SOURCES = {
    "pseudo_instructions": """
        .equ    COUNT, 10
        .set    MASK, (1 << 8) - 1
        .text
        .globl  _start
_start: li      a0, 0
        li      a1, 2047
        li      a2, -2048
        li      a3, 2048
        li      a4, 0x7ff800
        li      a5, 0x80000000
        li      a6, 0xffffffff
        li      a7, 0x12345678
        li      t0, -1
        li      t1, COUNT * 3
        li      t2, MASK
        la      s0, message
        lla     s1, table
        la      s2, buffer
        mv      a0, a1
        not     a0, a1
        neg     a0, a1
        nop
        seqz    a0, a1
        snez    a0, a1
        sltz    a0, a1
        sgtz    a0, a1
        sgt     a0, a1, a2
        sgtu    a0, a1, a2
        sext.b  a0, a1
        zext.b  a0, a1
        sext.h  a0, a1
        zext.h  a0, a1
1:      beqz    a0, 1b
        bnez    a0, 1f
        blez    a0, 1b
        bgez    a0, 1f
        bltz    a0, forward
        bgtz    a0, _start
        bgt     a0, a1, 1b
        ble     a0, a1, 1f
        bgtu    a0, a1, forward
1:      bleu    a0, a1, 1b
        j       forward
        jal     helper
        jal     t0, helper
        jr      t0
        jr      t0, 8
        jalr    t1
        jalr    t1, t2, -4
        jalr    ra, 12(a0)
        call    helper
        call    t0, helper
        tail    helper
        ret
        fence
        fence   rw, w
        fence   i, o
        fence.i
        fence.tso
        csrr    a0, cycle
        csrw    cycle, a0
        csrs    instret, a1
        csrc    time, a2
        csrwi   cycle, 5
        csrsi   cycleh, 31
        csrci   0xc82, 1
        csrw    cycle, 3
        csrrw   a0, 0xc00, 7
        rdcycle  a0
        rdtime   a1
        rdinstret a2
        rdcycleh a3
        rdtimeh  a4
        rdinstreth a5
        add     a0, a1, 12
        and     a0, a1, -1
        or      a0, a1, 0x7f
        xor     a0, a1, 3
        slt     a0, a1, -5
        sltu    a0, a1, 5
        sll     a0, a1, 31
        srl     a0, a1, 1
        sra     a0, a1, 0x1f
forward:
        lui     a0, %hi(message)
        addi    a0, a0, %lo(message)
        lw      a1, %lo(table+4)(a0)
        sw      a1, %lo(buffer)(a0)
2:      auipc   a0, %pcrel_hi(table)
        lw      a1, %pcrel_lo(2b)(a0)
        amoadd.w     a0, a1, (a2)
        amoswap.w.aq a0, a1, (a2)
        amoor.w.rl   a0, a1, 0(a2)
        amomaxu.w.aqrl a0, a1, (a2)
        lr.w.aqrl    a0, (a1)
        sc.w.rl      a0, a1, (a2)
        .align  4
helper: addi    sp, sp, -16
        sw      ra, 12(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret
        .p2align 3
        ebreak
        .balign 16
        ecall
        .section .rodata
message: .asciz "hello, world\\n"
        .align  2
table:  .word   1, -1, message, table + 8, forward - _start
        .data
        .byte   1
        .p2align 2
        .word   COUNT, MASK
        .bss
        .p2align 3
buffer: .space  64
""",
    "loops_and_calls": """
# sum a table, print a message with write, exit with the sum; sections interleaved
        .text
        .globl _start
_start:
        la      s0, values
3:      auipc   s1, %pcrel_hi(count)
        lw      s1, %pcrel_lo(3b)(s1)
        li      a0, 0
1:      beqz    s1, 2f
        lw      t0, 0(s0)
        add     a0, a0, t0
        addi    s0, s0, 4
        addi    s1, s1, -1
        j       1b
2:      call    report
        li      a7, 93; ecall
        .section .text.report, "ax", @progbits
report:
        addi    sp, sp, -16
        sw      ra, 12(sp); sw a0, 8(sp)
        li      a0, 1
        la      a1, text
        li      a2, 13
        li      a7, 64
        ecall
        lw      a0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret
        .data
values: .word   3, 1, 4, 1, 5, 9, 2, 6
        .section .sdata, "aw"
count:  .word   8
        .section .rodata
text:   .ascii  "sum computed\\n"
text_end:
        .text
        /* a block comment
           spanning lines */
        mul     a0, a0, a1  # trailing comment
        mulh    a0, a0, a1
        mulhsu  a0, a0, a1
        mulhu   a0, a0, a1
        div     a0, a0, a1
        divu    a0, a0, a1
        rem     a0, a0, a1
        remu    a0, a0, a1
""",
    "data_directives": """
        .globl  _start
        .text
_start: lui     a0, %hi(words)
        lw      a0, %lo(words)(a0)
        bnez    a0, far
        .space  3000, 0
        .p2align 2
far:    lui     a1, %hi(bytes + 1)
        lbu     a1, %lo(bytes + 1)(a1)
        ebreak
        .section .rodata
        .byte   1
        .balign 8, 0x55
words:  .word   0xcafebabe, far, far - _start
        .half   1, -1, 0x7fff
        .data
bytes:  .byte   'a', 'b', 0x7f, -128
        .asciz  "tab\\there", "quote\\"", "oct\\101\\x42"
        .string "s"
        .align  3
        .dword  0x1122334455667788
""",
}


def _disassembly(objdump: str, path) -> list[str]:
    """Instruction lines of `objdump -d -M no-aliases`: address, word, mnemonic, operands;
    without <symbol> annotations and # comments."""
    out = subprocess.run([objdump, "-d", "-M", "no-aliases", str(path)],
                         capture_output=True, text=True, check=True).stdout
    lines = []
    for line in out.splitlines():
        if not re.match(r"\s+[0-9a-f]+:\t", line):
            continue
        line = re.sub(r"<[^>]*>", "", line.split("#")[0])
        lines.append(" ".join(line.split()))
    return lines


def _assert_same_as_gnu(source, tmp_path) -> None:
    """Our executable for `source` and GNU as + ld's (same layout) have the same
    disassembly, section contents and addresses, symbol values and entry point."""
    (tmp_path / "link.ld").write_text(LINKER_SCRIPT)
    subprocess.run([GNU_AS, "-march=rv32ima_zicsr_zifencei", "-mabi=ilp32", "-mno-relax",
                    str(source), "-o", str(tmp_path / "gnu.o")], check=True)
    subprocess.run([GNU_LD, "-m", "elf32lriscv", "-T", str(tmp_path / "link.ld"),
                    str(tmp_path / "gnu.o"), "-o", str(tmp_path / "gnu.elf")], check=True)
    ours = tmp_path / "emu.elf"
    ours.write_bytes(assemble_file(source))

    assert _disassembly(OBJDUMP, ours) == _disassembly(OBJDUMP, tmp_path / "gnu.elf")
    with open(tmp_path / "gnu.elf", "rb") as f1, open(ours, "rb") as f2:
        gnu, emu = ELFFile(f1), ELFFile(f2)
        for name in (".text", ".rodata", ".data", ".bss"):
            gnu_section = gnu.get_section_by_name(name)
            emu_section = emu.get_section_by_name(name)
            if gnu_section is None or gnu_section["sh_size"] == 0:
                assert emu_section["sh_size"] == 0
                continue
            assert (emu_section["sh_addr"], emu_section["sh_size"], emu_section.data()) == \
                (gnu_section["sh_addr"], gnu_section["sh_size"], gnu_section.data())
        ours_symbols = {n: s["st_value"] for n, s in symbols(emu).items()}
        gnu_symbols = {n: s["st_value"] for n, s in symbols(gnu).items()
                       if s["st_info"]["type"] not in ("STT_SECTION", "STT_FILE")
                       and not n.startswith("$")}
        assert ours_symbols == gnu_symbols
        assert emu.header["e_entry"] == gnu.header["e_entry"]


@gnu_tools
@pytest.mark.parametrize("name", sorted(GNU_SOURCES))
def test_matches_gnu_as_and_ld(name, tmp_path):
    source = tmp_path / f"{name}.s"
    source.write_text(textwrap.dedent(GNU_SOURCES[name]))
    _assert_same_as_gnu(source, tmp_path)


GNU_CC = shutil.which("riscv64-unknown-elf-gcc")

C_PROGRAM = """
static const char *names[] = {"zero", "one", "two", "three"};
int counter = 5;
int table[16];
static int helper(int x) { return x * 3 + counter; }
int sum(const int *p, int n) {
    int s = 0;
    for (int i = 0; i < n; i++) s += p[i] > 3 ? p[i] : -p[i];
    return s;
}
unsigned divide(unsigned a, unsigned b) { return a / b + a % b; }
const char *name(int i) { return names[i & 3]; }
int pick(int k) {
    switch (k) { case 0: return 11; case 1: return 22; case 2: return 37;
                 case 3: return 41; case 4: return 59; default: return helper(k); }
}
void _start(void) {
    table[3] = sum(table, 16) + pick(counter) + name(2)[0] + divide(7, 3);
    for (;;) {}
}
"""


@gnu_tools
@pytest.mark.skipif(GNU_CC is None, reason="riscv64-unknown-elf-gcc is not installed")
@pytest.mark.parametrize("optimization", ["-O0", "-O2"])
def test_compiler_output_matches_gnu_as_and_ld(optimization, tmp_path):
    # gcc -S output uses .option, .attribute, .type, .size, .section .rodata.*, .L labels.
    (tmp_path / "prog.c").write_text(C_PROGRAM)
    subprocess.run([GNU_CC, "-S", optimization, "-march=rv32ima_zicsr", "-mabi=ilp32",
                    "-fno-pic", str(tmp_path / "prog.c"), "-o", str(tmp_path / "prog.s")],
                   check=True)
    _assert_same_as_gnu(tmp_path / "prog.s", tmp_path)


# ---- speed ------------------------------------------------------------------------------------

def test_ten_thousand_lines_assemble_quickly():
    import time

    body = "\n".join(
        f"L{i}: addi a0, a1, {i % 2048}\n lw t0, {i % 100}(sp)\n beq a0, a1, L{max(i - 3, 0)}\n"
        f" li a5, {i * 7919}\n la a0, L{i}" for i in range(2000))
    assert body.count("\n") + 1 == 10000
    start = time.perf_counter()
    assemble(body)
    assert time.perf_counter() - start < 2.0  # generous for loaded CI machines
