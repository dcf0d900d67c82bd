"""The disassembler against hand-checked text, against GNU objdump 2.40 (when the
RISC-V binutils are installed), and against the assemblers: its text must assemble
back to the same word. Also the `emu disasm` command."""

import io
import re
import shutil
import struct
import subprocess

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import given, settings
from hypothesis import strategies as st

from isa.assembler import assemble
from isa.disassembler import disassemble, disassemble_word, main
from isa.table import by_name, lookup
from tests.test_isa_table import ROWS, row_words

GNU_AS = shutil.which("riscv64-unknown-elf-as")
GNU_LD = shutil.which("riscv64-unknown-elf-ld")
OBJDUMP = shutil.which("riscv64-unknown-elf-objdump")
ISA_FLAGS = ["-march=rv32ima_zicsr_zifencei", "-mabi=ilp32"]
needs_binutils = pytest.mark.skipif(
    not (GNU_AS and GNU_LD and OBJDUMP), reason="riscv64-unknown-elf binutils not installed"
)

WORD_MASK = 0xFFFFFFFF


def pcs(low, high):
    """4-aligned addresses in [low, high)."""
    return st.integers(low // 4, high // 4 - 1).map(lambda n: n * 4)


#: Far enough from 0 and 2**32 that no target wraps around.
pcs_without_wrap = pcs(0x100000, 0xFFE00000)
#: GNU ld reports a jal to an absolute address at or above 2 GiB as out of range.
pcs_for_gnu_ld = pcs(0x100000, 0x7FE00000)
any_pc = pcs(0, 1 << 32)
#: fence's empty ordering set prints as "unknown", which no assembler accepts.
nonempty_fence_set = st.integers(1, 15)


def round_trip_words(rows):
    """One word of each row, with operands every assembler accepts."""
    return st.tuples(
        *(row_words(row, pred=nonempty_fence_set, succ=nonempty_fence_set) for row in rows)
    )


# (pc, word, text): the listing of GNU as output printed by objdump 2.40 with
# -d -M no-aliases --adjust-vma=0x10000, with targets written as 0x... and the
# `<symbol>` and `# address` annotations dropped; then a few words by hand.
HAND_LISTING = [
    (0x10000, 0x12345537, "lui\ta0,0x12345"),
    (0x10004, 0xFFFFFFB7, "lui\tt6,0xfffff"),
    (0x10008, 0x00000097, "auipc\tra,0x0"),
    (0x1000C, 0x80000D97, "auipc\ts11,0x80000"),
    (0x10010, 0x001000EF, "jal\tra,0x10810"),
    (0x10014, 0xFFDFF06F, "jal\tzero,0x10010"),
    (0x10018, 0x000780E7, "jalr\tra,0(a5)"),
    (0x1001C, 0x80028067, "jalr\tzero,-2048(t0)"),
    (0x10020, 0x00B50E63, "beq\ta0,a1,0x1003c"),
    (0x10024, 0x80941063, "bne\ts0,s1,0xf024"),
    (0x10028, 0x7E62CFE3, "blt\tt0,t1,0x11026"),
    (0x1002C, 0x00F05463, "bge\tzero,a5,0x10034"),
    (0x10030, 0xFED66FE3, "bltu\ta2,a3,0x1002e"),
    (0x10034, 0x0041F263, "bgeu\tgp,tp,0x10038"),
    (0x10038, 0xFFF90503, "lb\ta0,-1(s2)"),
    (0x1003C, 0x7FFA1983, "lh\ts3,2047(s4)"),
    (0x10040, 0xFFC12503, "lw\ta0,-4(sp)"),
    (0x10044, 0x000ECE03, "lbu\tt3,0(t4)"),
    (0x10048, 0x06485F03, "lhu\tt5,100(a6)"),
    (0x1004C, 0x811A8023, "sb\ta7,-2048(s5)"),
    (0x10050, 0x016B9323, "sh\ts6,6(s7)"),
    (0x10054, 0x00112623, "sw\tra,12(sp)"),
    (0x10058, 0xFFF50513, "addi\ta0,a0,-1"),
    (0x1005C, 0x005CAC13, "slti\ts8,s9,5"),
    (0x10060, 0x7FFDBD13, "sltiu\ts10,s11,2047"),
    (0x10064, 0xFFF5C513, "xori\ta0,a1,-1"),
    (0x10068, 0x07F6E613, "ori\ta2,a3,127"),
    (0x1006C, 0x0FF7F713, "andi\ta4,a5,255"),
    (0x10070, 0x00351513, "slli\ta0,a0,0x3"),
    (0x10074, 0x01F65593, "srli\ta1,a2,0x1f"),
    (0x10078, 0x40075693, "srai\ta3,a4,0x0"),
    (0x1007C, 0x00C58533, "add\ta0,a1,a2"),
    (0x10080, 0x40F706B3, "sub\ta3,a4,a5"),
    (0x10084, 0x01289833, "sll\ta6,a7,s2"),
    (0x10088, 0x015A29B3, "slt\ts3,s4,s5"),
    (0x1008C, 0x018BBB33, "sltu\ts6,s7,s8"),
    (0x10090, 0x01BD4CB3, "xor\ts9,s10,s11"),
    (0x10094, 0x01EEDE33, "srl\tt3,t4,t5"),
    (0x10098, 0x40105FB3, "sra\tt6,zero,ra"),
    (0x1009C, 0x0041E133, "or\tsp,gp,tp"),
    (0x100A0, 0x007372B3, "and\tt0,t1,t2"),
    (0x100A4, 0x0FF0000F, "fence\tiorw,iorw"),
    (0x100A8, 0x0210000F, "fence\tr,w"),
    (0x100AC, 0x8330000F, "fence.tso"),
    (0x100B0, 0x0000100F, "fence.i"),
    (0x100B4, 0x00000073, "ecall"),
    (0x100B8, 0x00100073, "ebreak"),
    (0x100BC, 0xC0059573, "csrrw\ta0,cycle,a1"),
    (0x100C0, 0x7C002573, "csrrs\ta0,0x7c0,zero"),
    (0x100C4, 0xC82332F3, "csrrc\tt0,instreth,t1"),
    (0x100C8, 0xC002D573, "csrrwi\ta0,cycle,5"),
    (0x100CC, 0x300FE073, "csrrsi\tzero,mstatus,31"),
    (0x100D0, 0xFFF07473, "csrrci\ts0,0xfff,0"),
    (0x100D4, 0x02C58533, "mul\ta0,a1,a2"),
    (0x100D8, 0x02F716B3, "mulh\ta3,a4,a5"),
    (0x100DC, 0x0288A833, "mulhsu\ta6,a7,s0"),
    (0x100E0, 0x033934B3, "mulhu\ts1,s2,s3"),
    (0x100E4, 0x027342B3, "div\tt0,t1,t2"),
    (0x100E8, 0x03EEDE33, "divu\tt3,t4,t5"),
    (0x100EC, 0x02A56533, "rem\ta0,a0,a0"),
    (0x100F0, 0x03ADFFB3, "remu\tt6,s11,s10"),
    (0x100F4, 0x1005A52F, "lr.w\ta0,(a1)"),
    (0x100F8, 0x1605A52F, "lr.w.aqrl\ta0,(a1)"),
    (0x100FC, 0x18C5A52F, "sc.w\ta0,a2,(a1)"),
    (0x10100, 0x1A6122AF, "sc.w.rl\tt0,t1,(sp)"),
    (0x10104, 0x0CC5A52F, "amoswap.w.aq\ta0,a2,(a1)"),
    (0x10108, 0x04C5A52F, "amoadd.w.aq\ta0,a2,(a1)"),
    (0x1010C, 0x0011202F, "amoadd.w\tzero,ra,(sp)"),
    (0x10110, 0x2699242F, "amoxor.w.aqrl\ts0,s1,(s2)"),
    (0x10114, 0x60B6252F, "amoand.w\ta0,a1,(a2)"),
    (0x10118, 0x42E7A6AF, "amoor.w.rl\ta3,a4,(a5)"),
    (0x1011C, 0x8112A82F, "amomin.w\ta6,a7,(t0)"),
    (0x10120, 0xA07E232F, "amomax.w\tt1,t2,(t3)"),
    (0x10124, 0xC5EFAEAF, "amominu.w.aq\tt4,t5,(t6)"),
    (0x10128, 0xE04021AF, "amomaxu.w\tgp,tp,(zero)"),
    # Targets wrap around the 32-bit address space, as objdump's do.
    (0x00000000, 0xFE000EE3, "beq\tzero,zero,0xfffffffc"),
    (0x0000008C, 0x8000006F, "jal\tzero,0xfff0008c"),
    (0xFFFFFFFC, 0x0080006F, "jal\tzero,0x4"),
    # objdump's name for an empty fence set.
    (0x00000000, 0x0100000F, "fence\tw,unknown"),
    # Illegal words: objdump prints a 32-bit one as .4byte.
    (0x00000000, 0x0000000B, ".4byte\t0xb"),  # custom-0 opcode
    (0x00000000, 0x00002007, ".4byte\t0x2007"),  # flw: no F extension
    (0x00000000, 0x1015A52F, ".4byte\t0x1015a52f"),  # lr.w with rs2 != 0
    (0x00000000, 0x1000302F, ".4byte\t0x1000302f"),  # lr.d: RV64 only
    (0x00000000, 0x8000000F, ".4byte\t0x8000000f"),  # fence with an unknown fm
    # Where emu differs from objdump: these trap in emu, so they print as illegal
    # words (objdump: mret, slli a0,zero,0x20, .2byte 0x0 twice, .byte ... ).
    (0x00000000, 0x30200073, ".4byte\t0x30200073"),
    (0x00000000, 0x02001513, ".4byte\t0x2001513"),
    (0x00000000, 0x00000000, ".4byte\t0x0"),
    (0x00000000, 0xFFFFFFFF, ".4byte\t0xffffffff"),
]


def test_hand_listing_covers_every_row():
    rows = {lookup(word).name for _, word, _ in HAND_LISTING if lookup(word)}
    assert rows == set(by_name())


@pytest.mark.parametrize("pc, word, text", HAND_LISTING, ids=[text for _, _, text in HAND_LISTING])
def test_hand_listing(pc, word, text):
    assert disassemble_word(word, pc) == text


@pytest.mark.parametrize("word", [-1, 1 << 32])
def test_disassemble_word_rejects_non_words(word):
    with pytest.raises(ValueError):
        disassemble_word(word)


def test_disassemble_blob():
    data = bytes.fromhex("13050000" "63000000" "ff")  # addi, beq to itself, a stray byte
    assert disassemble(data, 0x10000) == [
        (0x10000, 0x00000513, "addi\ta0,zero,0"),
        (0x10004, 0x00000063, "beq\tzero,zero,0x10004"),
        (0x10008, 0xFF, ".byte\t0xff"),
    ]


@given(st.binary(max_size=64).map(lambda b: b[: len(b) // 4 * 4]), any_pc)
def test_disassemble_is_disassemble_word_per_word(data, address):
    words = struct.unpack(f"<{len(data) // 4}I", data)
    expected = [
        (address + 4 * i, word, disassemble_word(word, address + 4 * i))
        for i, word in enumerate(words)
    ]
    assert disassemble(data, address) == expected


# ---- GNU objdump as the reference ---------------------------------------------------

OBJDUMP_LINE = re.compile(r"^ *[0-9a-f]+:\t([0-9a-f]{8}) +\t(.*)$", re.M)


def objdump_as_emu_prints(text):
    """objdump's text with its annotations dropped and targets written as 0x..."""
    text = re.sub(r"\s+#.*$", "", text)
    return re.sub(r"([\t,])([0-9a-f]+) <[^>]*>$", r"\g<1>0x\2", text)


@pytest.fixture(scope="module")
def objdump(tmp_path_factory):
    """objdump(words, pc) -> objdump's texts for the words placed at pc, pc+4, ..."""
    if not (GNU_AS and OBJDUMP):
        pytest.skip("riscv64-unknown-elf binutils not installed")
    directory = tmp_path_factory.mktemp("objdump")
    templates = {}  # word count -> (object file with that many nops, .text offset)

    def template(count):
        if count not in templates:
            source = directory / "template.s"
            source.write_text(".text\n" + ".insn 4, 0x13\n" * count)
            subprocess.run([GNU_AS, *ISA_FLAGS, source, "-o", directory / "template.o"], check=True)
            blob = (directory / "template.o").read_bytes()
            # A word written with .insn is code to objdump; .4byte would be data.
            offset = ELFFile(io.BytesIO(blob)).get_section_by_name(".text")["sh_offset"]
            templates[count] = blob, offset
        return templates[count]

    def run(words, pc=0):
        blob, offset = template(len(words))
        patched = bytearray(blob)
        patched[offset : offset + 4 * len(words)] = struct.pack(f"<{len(words)}I", *words)
        path = directory / "words.o"
        path.write_bytes(patched)
        listing = subprocess.run(
            [OBJDUMP, "-d", "-M", "no-aliases", f"--adjust-vma={pc:#x}", path],
            check=True, capture_output=True, text=True,
        ).stdout
        lines = OBJDUMP_LINE.findall(listing)
        assert [int(word, 16) for word, _ in lines] == list(words)
        return [objdump_as_emu_prints(text) for _, text in lines]

    return run


@settings(max_examples=20, deadline=None)
@given(st.tuples(*(row_words(row) for row in ROWS * 3)), any_pc)
def test_every_row_matches_objdump(objdump, words, pc):
    ours = [disassemble_word(word, pc + 4 * i) for i, word in enumerate(words)]
    assert ours == objdump(words, pc)


#: Instructions objdump decodes for words that are illegal in emu (see the module
#: docstring of isa.disassembler): privileged ones, and RV64 shifts by 32..63.
OBJDUMP_ONLY = {"uret", "sret", "mret", "dret", "wfi", "sfence.vma"}
RV64_SHIFTS = {"slli", "srli", "srai"}


def is_objdump_only(text):
    mnemonic, _, operands = text.partition("\t")
    if mnemonic in RV64_SHIFTS:
        return int(operands.rsplit(",", 1)[1], 16) >= 32
    return mnemonic in OBJDUMP_ONLY


#: Words whose low bits announce a 32-bit encoding (objdump splits the others).
thirty_two_bit_words = st.integers(0, WORD_MASK).map(lambda w: w | 3).filter(
    lambda w: w & 0x1C != 0x1C
)


@settings(max_examples=20, deadline=None)
@given(st.lists(thirty_two_bit_words, min_size=300, max_size=300), any_pc)
def test_random_words_match_objdump(objdump, words, pc):
    theirs = objdump(words, pc)
    for i, word in enumerate(words):
        ours = disassemble_word(word, pc + 4 * i)
        if ours != theirs[i]:
            assert lookup(word) is None and is_objdump_only(theirs[i]), (hex(word), ours, theirs[i])


def test_every_csr_number_matches_objdump(objdump):
    words = [csr << 20 | 0x2573 for csr in range(4096)]  # csrrs a0,csr,zero
    assert [disassemble_word(word) for word in words] == objdump(words)


# ---- round trips through the assemblers ---------------------------------------------


def text_words(elf, count):
    text = ELFFile(io.BytesIO(elf)).get_section_by_name(".text").data()
    return struct.unpack(f"<{count}I", text[: 4 * count])


def listing_source(words, pc):
    return "".join(f"{disassemble_word(word, pc + 4 * i)}\n" for i, word in enumerate(words))


@settings(max_examples=30, deadline=None)
@given(round_trip_words(ROWS), pcs_without_wrap)
def test_text_assembles_back_to_the_word(words, pc):
    elf = assemble(listing_source(words, pc), text_base=pc)
    assert text_words(elf, len(words)) == words


@needs_binutils
@settings(max_examples=10, deadline=None)
# GNU as turns a branch to an absolute address into a branch around a jal (it cannot
# know the target is in range), so branches are checked by the emu assembler only.
@given(round_trip_words([row for row in ROWS if row.format != "B"]), pcs_for_gnu_ld)
def test_gnu_as_assembles_the_text_back_to_the_word(tmp_path_factory, words, pc):
    directory = tmp_path_factory.mktemp("gnu")
    (directory / "listing.s").write_text(listing_source(words, pc))
    subprocess.run([GNU_AS, *ISA_FLAGS, "listing.s", "-o", "listing.o"], cwd=directory, check=True)
    subprocess.run(
        [GNU_LD, "-m", "elf32lriscv", "--no-relax", f"-Ttext={pc:#x}", "-e", f"{pc:#x}",
         "listing.o", "-o", "listing"],
        cwd=directory, check=True,
    )
    assert text_words((directory / "listing").read_bytes(), len(words)) == words


# ---- emu disasm ---------------------------------------------------------------------

PROGRAM = """\
        .globl  _start
_start: addi    a0, zero, 0
loop:   beq     a0, a1, loop
        jal     ra, helper
        lui     a0, %hi(message)
        addi    a0, a0, %lo(message)
        .word   0x0000000b
helper: jalr    zero, 0(ra)
        .section .rodata
message: .string "hi"
"""


def gnu_link(directory):
    (directory / "program.s").write_text(PROGRAM)
    subprocess.run([GNU_AS, *ISA_FLAGS, "program.s", "-o", "program.o"], cwd=directory, check=True)
    subprocess.run(
        [GNU_LD, "-m", "elf32lriscv", "-Ttext=0x10000", "program.o", "-o", "program"],
        cwd=directory, check=True,
    )
    return (directory / "program").read_bytes()


@needs_binutils
@pytest.mark.parametrize("build", [gnu_link, lambda _: assemble(PROGRAM)], ids=["gnu", "emu"])
def test_disasm_command_lists_like_objdump(build, tmp_path, capsys):
    program = tmp_path / "program.elf"
    program.write_bytes(build(tmp_path))
    assert main([str(program)]) == 0
    ours = capsys.readouterr().out
    theirs = subprocess.run(
        [OBJDUMP, "-d", "-M", "no-aliases", program], check=True, capture_output=True, text=True
    ).stdout
    theirs = theirs[theirs.index("Disassembly of section"):]
    # objdump prints a word GNU as marked as data as .word; emu decodes every word.
    theirs = theirs.replace(".word\t0x0000000b", ".4byte\t0xb")
    theirs = re.sub(r" # .*$", "", theirs, flags=re.M)
    theirs = re.sub(r"([\t,])([0-9a-f]+)( <[^>]*>)$", r"\g<1>0x\2\3", theirs, flags=re.M)
    assert ours.strip("\n") == theirs.strip("\n")


@pytest.mark.parametrize("options, lines", [
    ([], [
        "   0:\t00000513          \taddi\ta0,zero,0",
        "   4:\tfe000ee3          \tbeq\tzero,zero,0x0",
        "   8:\t07                \t.byte\t0x07",
    ]),
    (["--address", "0x10000"], [
        "   10000:\t00000513          \taddi\ta0,zero,0",
        "   10004:\tfe000ee3          \tbeq\tzero,zero,0x10000",
        "   10008:\t07                \t.byte\t0x07",
    ]),
])
def test_disasm_command_raw_binary(tmp_path, capsys, options, lines):
    raw = tmp_path / "code.bin"
    raw.write_bytes(bytes.fromhex("13050000" "e30e00fe" "07"))  # addi, beq back to it, a byte
    assert main(["--raw", *options, str(raw)]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def one_line_error(capsys, argv):
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("emu disasm: error: ") and captured.err.count("\n") == 1
    return captured.err


def test_disasm_command_rejects_a_missing_file(tmp_path, capsys):
    assert "No such file" in one_line_error(capsys, [str(tmp_path / "missing")])


def test_disasm_command_rejects_a_non_elf(tmp_path, capsys):
    path = tmp_path / "code.bin"
    path.write_bytes(bytes(64))
    assert "--raw" in one_line_error(capsys, [str(path)])


def test_disasm_command_rejects_a_truncated_elf(tmp_path, capsys):
    path = tmp_path / "truncated"
    path.write_bytes(assemble(PROGRAM)[:200])
    one_line_error(capsys, [str(path)])


def test_disasm_command_rejects_another_machine(tmp_path, capsys):
    blob = bytearray(assemble(PROGRAM))
    blob[18:20] = struct.pack("<H", 3)  # e_machine = EM_386
    path = tmp_path / "x86"
    path.write_bytes(blob)
    assert "RISC-V" in one_line_error(capsys, [str(path)])


def test_disasm_command_address_needs_raw(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["--address", "0x10000", str(tmp_path / "x")])
    assert exit_.value.code == 2
