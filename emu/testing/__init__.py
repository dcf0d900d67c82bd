"""Testing tools for emu and for programs run on it: hypothesis strategies that
generate random valid programs and machine configurations, and helpers that run a
program to its final architectural state and compare states readably.

    import emu
    from hypothesis import given
    from emu.testing import programs, machine_configs, assert_same_state

    BASE = emu.MachineConfig(memory_size=1 << 20, stack_size=64 << 10)

    @given(programs(), machine_configs(memory_size=BASE.memory_size))
    def test_config_does_not_change_results(program, config):
        assert_same_state(program, BASE, config)

Strategies (emu.testing.strategies): straight_line_programs(), looping_programs(),
programs() draw GeneratedProgram objects (assembly source, an instruction bound, the
features used); machine_configs(**fixed) draws MachineConfig objects (fix memory_size
when comparing: it moves the initial stack pointer); core_configs() draws out-of-order
core configurations.
Helpers (emu.testing.compare): run_program(), assert_same_state(), ArchState, and
identity_paging, a `prepare` that turns Sv32 translation on with RAM mapped to itself.
"""

from emu.testing.compare import (ArchState, assert_same_state, capture_state, data_region,
                                 executable, identity_paging, load_program, run_program)
from emu.testing.strategies import (GeneratedProgram, core_configs, looping_programs,
                                    machine_configs, programs, straight_line_programs)

__all__ = ["ArchState", "GeneratedProgram", "assert_same_state", "capture_state", "core_configs", "data_region",
           "executable", "identity_paging", "load_program", "looping_programs", "machine_configs", "programs",
           "run_program", "straight_line_programs"]
