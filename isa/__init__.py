"""The emu ISA: a user-level RV32IMA subset, encoding-compatible with RISC-V.

The instruction table (isa/instructions.tab, read by isa.table) is the single source
of truth; the assembler (isa.assembler), the disassembler (isa.disassembler) and the
Cython decoder (emu/_core/opcodes.pxd, written by isa.generate) come from it.
"""

from isa.assembler import AssemblyError, assemble, assemble_file
from isa.disassembler import disassemble, disassemble_word

__all__ = ["AssemblyError", "assemble", "assemble_file", "disassemble", "disassemble_word"]
