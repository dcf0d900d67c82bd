"""The Machine API, the loader's initial stack and the kernel's system calls."""

import signal
import struct

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

import emu
from emu.config import ConfigError
from emu.loader import AT_ENTRY, AT_PAGESZ, AT_RANDOM, LoadError

EXIT = """
    li a7, 93
    ecall
"""


def machine_for(source: str, **kw) -> emu.Machine:
    machine = emu.Machine(emu.MachineConfig(memory_size=1 << 20), **kw)
    machine.load(emu.assemble(".text\n.globl _start\n_start:\n" + source))
    return machine


def run(source: str, **kw) -> tuple[emu.Machine, emu.RunResult]:
    machine = machine_for(source, **kw)
    return machine, machine.run()


def test_write_and_exit_status():
    machine, result = run("""
        li a0, 1
        la a1, msg
        li a2, 6
        li a7, 64
        ecall
        mv s0, a0
        li a0, 300          # exit status is taken modulo 256
    """ + EXIT + """
    .data
    msg: .ascii "hello\\n"
    """)
    assert machine.stdout == b"hello\n"
    assert (result.reason, result.exit_code) == ("exit", 300 & 0xFF)
    assert machine.regs[8] == 6
    again = machine.run()                       # an ended program stays ended
    assert (again.reason, again.exit_code, again.instructions) == ("exit", 300 & 0xFF, 0)


def test_initial_stack_is_laid_out_like_linux():
    machine = emu.Machine(emu.MachineConfig(memory_size=1 << 20))
    program = machine.load(emu.assemble(".globl _start\n_start: nop\n"), argv=["prog", "a b", ""],
                           env={"HOME": "/root"})
    sp = int(machine.regs[2])
    assert sp % 16 == 0 and sp == program.stack_pointer

    def word(addr):
        return struct.unpack("<I", machine.read_memory(addr, 4))[0]

    def string(addr):
        data = machine.read_memory(addr, min(64, machine.config.ram_end - addr))
        return data[:data.index(0)].decode()

    assert word(sp) == 3
    argv = [string(word(sp + 4 * (1 + i))) for i in range(3)]
    assert argv == ["prog", "a b", ""] and word(sp + 16) == 0
    assert string(word(sp + 20)) == "HOME=/root" and word(sp + 24) == 0
    auxv = {}
    addr = sp + 28
    while word(addr) != 0:
        auxv[word(addr)] = word(addr + 4)
        addr += 8
    assert auxv[AT_PAGESZ] == 4096 and auxv[AT_ENTRY] == program.entry == machine.pc
    random_bytes = machine.read_memory(auxv[AT_RANDOM], 16)
    assert len(set(random_bytes)) > 1


def test_read_from_stdin_until_eof():
    source = """
    loop:
        li a0, 0
        la a1, buf
        li a2, 3
        li a7, 63
        ecall
        beqz a0, done
        mv a2, a0
        li a0, 1
        la a1, buf
        li a7, 64
        ecall
        j loop
    done:
    """ + EXIT + "\n.bss\nbuf: .space 16\n"
    machine, result = run(source, stdin=b"echo this\n")
    assert machine.stdout == b"echo this\n" and result.exit_code == 0


def test_syscall_errors_are_negative_errno():
    machine, _ = run("""
        li a0, 1
        li a1, 0            # not in RAM
        li a2, 4
        li a7, 64
        ecall
        mv s0, a0
        li a0, 7            # no such fd
        la a1, _start
        li a2, 4
        li a7, 64
        ecall
        mv s1, a0
        li a7, 999          # no such system call
        ecall
        mv s2, a0
        li a0, 0
    """ + EXIT)
    assert [int(np.int32(v)) for v in machine.regs[[8, 9, 18]]] == [-14, -9, -38]


def test_brk_grows_zeroed_memory_and_refuses_the_stack():
    machine, result = run("""
        li a0, 0
        li a7, 214
        ecall
        mv s0, a0               # initial break
        li t0, 8192
        add a0, s0, t0
        li a7, 214
        ecall
        mv s1, a0               # grown break
        li t1, 0x5a5a5a5a
        sw t1, 4(s0)            # the new memory is usable
        lw s2, 4(s0)
        li a0, -16
        li a7, 214
        ecall                   # an impossible break leaves it unchanged
        mv s3, a0
        li a0, 0
    """ + EXIT)
    brk0 = machine.program.brk_start
    assert result.exit_code == 0
    assert list(machine.regs[[8, 9, 18, 19]]) == [brk0, brk0 + 8192, 0x5A5A5A5A, brk0 + 8192]


@pytest.mark.parametrize("body, sig, cause", [
    ("lw a0, 0(zero)", signal.SIGSEGV, 5),
    ("li t0, 0x1002\n lw a0, 0(t0)", signal.SIGBUS, 4),
    (".word 0xffffffff", signal.SIGILL, 2),
    ("li t0, 0x7ffffff0\n jr t0", signal.SIGSEGV, 1),
])
def test_faults_kill_the_process_with_the_linux_signal(body, sig, cause):
    machine, result = run(body + "\n" + EXIT)
    assert result.reason == "fault"
    assert (result.signal, result.exit_code, result.trap.cause) == (sig, 128 + sig, cause)


def test_breakpoint_stops_and_the_run_can_continue():
    machine, result = run("""
        li a0, 5
        ebreak
        li a0, 9
    """ + EXIT)
    assert result.reason == "breakpoint" and machine.regs[10] == 5
    assert machine.pc == result.trap.pc
    machine.pc += 4
    result = machine.run()
    assert (result.reason, result.exit_code) == ("exit", 9)


def test_step_and_limits_are_exact_and_deterministic():
    source = """
        li t0, 0
        li t1, 1000
    1:  addi t0, t0, 1
        blt t0, t1, 1b
        mv a0, t0
    """ + EXIT
    whole, result = run(source)
    stepped = machine_for(source)
    first = stepped.step()
    assert (first.reason, first.instructions) == ("limit", 1)
    partial = stepped.run(max_instructions=777)
    assert (partial.reason, partial.instructions) == ("limit", 777)
    rest = stepped.run()
    assert rest.exit_code == result.exit_code == 1000 & 0xFF
    assert 1 + 777 + rest.instructions == result.instructions
    assert stepped.stats["sim_insts"] == whole.stats["sim_insts"]


def test_registers_and_memory_are_writable_views():
    machine = machine_for("add a0, a1, a2\n" + EXIT)
    machine.regs[11], machine.regs[12] = 40, 2
    assert machine.run().exit_code == 42
    machine.write_memory(machine.ram_base + 0x100, b"\x01\x02")
    assert machine.memory[0x100] == 1 and machine.read_memory(machine.ram_base + 0x101, 1) == b"\x02"
    with pytest.raises(IndexError):
        machine.read_memory(0, 4)


def test_several_machines_live_side_by_side():
    a = machine_for("li a0, 3\n" + EXIT)
    b = machine_for("li a0, 4\n" + EXIT)
    assert (a.run().exit_code, b.run().exit_code) == (3, 4)


@pytest.mark.parametrize("fields, message", [
    ({"memory_size": 1000}, "memory_size"),
    ({"memory_size": 4096 * 17 + 1}, "multiple of 4096"),
    ({"ram_base": 0x1001}, "ram_base"),
    ({"cpu": "quantum"}, "cpu must be one of"),
    ({"harts": 0}, "harts"),
    ({"timebase_hz": 3}, "divide clock_hz"),
    ({"memory_size": "big"}, "integer"),
    ({"ram_base": 0xEFFFF000, "memory_size": 1 << 20}, "overlaps"),
])
def test_impossible_configs_are_rejected_at_construction(fields, message):
    with pytest.raises(ConfigError, match=message):
        emu.MachineConfig(**fields)


def test_config_is_frozen_and_pickles():
    import pickle

    config = emu.MachineConfig(memory_size=1 << 20)
    assert pickle.loads(pickle.dumps(config)) == config
    with pytest.raises(Exception):
        config.memory_size = 5


def _elf_with(**changes) -> bytes:
    data = bytearray(emu.assemble(".globl _start\n_start: nop\n"))
    header = ELFFile(__import__("io").BytesIO(bytes(data))).header
    if "machine" in changes:
        data[18:20] = struct.pack("<H", changes["machine"])
    if "vaddr" in changes:
        ph = header["e_phoff"]
        data[ph + 8:ph + 12] = struct.pack("<I", changes["vaddr"])
        data[ph + 12:ph + 16] = struct.pack("<I", changes["vaddr"])
    return bytes(data)


@pytest.mark.parametrize("data, message", [
    (b"not an elf at all", "not an ELF"),
    (b"\x7fELF\x02\x01\x01" + bytes(57), "32-bit"),
    (_elf_with(machine=62), "not a RISC-V"),
    (_elf_with(vaddr=0x7FFF0000), "outside RAM"),
])
def test_bad_executables_are_rejected_with_a_reason(data, message):
    machine = emu.Machine(emu.MachineConfig(memory_size=1 << 20))
    with pytest.raises(LoadError, match=message):
        machine.load(data)
