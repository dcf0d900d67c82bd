"""emu: a Cython-accelerated cycle-level emulator of a small RV32IMA computer.

    import emu
    machine = emu.Machine(emu.MachineConfig(memory_size=16 << 20))
    machine.load(emu.assemble_file("programs/hello.s"))
    result = machine.run()
"""

from emu.config import ConfigError, MachineConfig
from emu.kernel import Trap
from emu.loader import LoadError
from emu.machine import HartContext, Machine, RunResult
from isa import AssemblyError, assemble, assemble_file, disassemble

__all__ = ["AssemblyError", "ConfigError", "HartContext", "LoadError", "Machine",
           "MachineConfig", "RunResult", "Trap", "assemble", "assemble_file", "disassemble"]
__version__ = "0.1.0"
