"""Machine configuration: frozen dataclasses with defaults, help text and validation.

This module owns what a machine can be configured to be and which values are
possible. Every field is declared with `param(default, help)` (gem5's
`Param(default, "desc")`); `describe()` lists them for the CLI and the docs. A
config is validated when it is constructed, so an impossible machine is an error
at the line that asked for it, never a crash later; it is frozen and pickles, so
it can key caches and travel to sweep workers. The Machine converts it once into
the C structs of emu/_core.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 4096

#: Core models selectable with `cpu`: the fast functional core, and the cycle-level
#: out-of-order core whose golden model it is.
CPU_MODELS = ("functional", "ooo")

#: Direction predictors of the out-of-order core's front end (emu/_core/bp_*.pxd).
PREDICTORS = ("static", "bimodal", "gshare", "tage")

#: How loads treat older stores whose address is not known yet: "wait" speculates and
#: learns a wait bit per load pc after a violation; "speculate" always goes ahead;
#: "conservative" always waits.
MEMORY_DEPENDENCE = ("wait", "speculate", "conservative")


def param(default: Any, help: str) -> Any:
    """A config field with its default and its help text."""
    return field(default=default, metadata={"help": help})


class ConfigError(ValueError):
    """A configuration value that no machine can have."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fields(config: Any) -> None:
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.type in ("int", int):
            _require(_is_int(value), f"{f.name} must be an integer, not {value!r}")


def _power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


@dataclass(frozen=True)
class CoreConfig:
    """The out-of-order core (cpu="ooo"): widths, queue sizes, units and prediction.

    The defaults are roughly a modern 4-wide core. The mispredict penalty is not a
    parameter: it emerges from frontend_depth and where branches resolve.
    """

    fetch_width: int = param(4, "instructions fetched per cycle (a taken branch ends the group)")
    rename_width: int = param(4, "instructions decoded, renamed and dispatched per cycle")
    issue_width: int = param(4, "instructions issued to functional units per cycle")
    commit_width: int = param(4, "instructions committed per cycle")
    fetch_queue: int = param(32, "entries between fetch and rename")
    frontend_depth: int = param(5, "cycles from fetch until an instruction can be renamed")
    rob_entries: int = param(128, "reorder buffer entries")
    iq_entries: int = param(64, "issue queue entries (instructions waiting for operands)")
    lq_entries: int = param(32, "load queue entries")
    sq_entries: int = param(32, "store queue entries")
    phys_regs: int = param(160, "physical registers (32 hold the architectural state)")
    alu_units: int = param(4, "integer ALUs (pipelined)")
    alu_latency: int = param(1, "ALU latency in cycles")
    branch_units: int = param(2, "branch units (pipelined); branches resolve here")
    branch_latency: int = param(1, "branch unit latency in cycles")
    mul_units: int = param(1, "multipliers (pipelined)")
    mul_latency: int = param(3, "multiply latency in cycles")
    div_units: int = param(1, "dividers (not pipelined: busy for the whole latency)")
    div_latency: int = param(20, "divide/remainder latency in cycles")
    load_ports: int = param(2, "loads issued per cycle")
    store_ports: int = param(1, "stores issued per cycle")
    memory_latency: int = param(3, "load-to-use cycles of the fixed-latency memory")
    serial_latency: int = param(1, "cycles an AMO, LR/SC or CSR read takes at the ROB head "
                                   "(atomics add the memory latency)")
    predictor: str = param("gshare", f"branch direction predictor, one of {', '.join(PREDICTORS)}")
    predictor_table_bits: int = param(12, "log2 of the predictor's counter-table entries")
    predictor_history_bits: int = param(12, "global history bits gshare uses")
    btb_entries: int = param(512, "branch target buffer entries (a power of two)")
    btb_ways: int = param(4, "BTB associativity")
    ras_entries: int = param(16, "return address stack entries")
    memory_dependence: str = param("wait", f"load speculation past unknown stores, one of "
                                           f"{', '.join(MEMORY_DEPENDENCE)}")
    wait_table_bits: int = param(10, "log2 entries of the load wait-bit table")
    deadlock_cycles: int = param(100_000, "cycles without a commit before the core reports a deadlock")
    check_invariants: bool = param(False, "check ROB order, free-list conservation and queue "
                                          "bounds every cycle (slow; for debugging)")

    def __post_init__(self) -> None:
        _check_fields(self)
        for name in ("fetch_width", "rename_width", "issue_width", "commit_width"):
            _require(1 <= getattr(self, name) <= 16, f"{name} must be between 1 and 16, "
                                                      f"not {getattr(self, name)}")
        for name in ("fetch_queue", "rob_entries", "iq_entries", "lq_entries", "sq_entries"):
            _require(1 <= getattr(self, name) <= 4096,
                     f"{name} must be between 1 and 4096, not {getattr(self, name)}")
        _require(self.frontend_depth >= 1, f"frontend_depth must be at least 1, not {self.frontend_depth}")
        _require(33 <= self.phys_regs <= 4096,
                 f"phys_regs must be between 33 and 4096 (32 hold the architectural registers), "
                 f"not {self.phys_regs}")
        for name in ("alu_units", "branch_units", "mul_units", "div_units", "load_ports", "store_ports"):
            _require(1 <= getattr(self, name) <= 16, f"{name} must be between 1 and 16, "
                                                      f"not {getattr(self, name)}")
        for name in ("alu_latency", "branch_latency", "mul_latency", "div_latency",
                     "memory_latency", "serial_latency"):
            _require(1 <= getattr(self, name) <= 1000, f"{name} must be between 1 and 1000, "
                                                        f"not {getattr(self, name)}")
        _require(self.predictor in PREDICTORS,
                 f"predictor must be one of {', '.join(PREDICTORS)}, not {self.predictor!r}")
        _require(1 <= self.predictor_table_bits <= 24,
                 f"predictor_table_bits must be between 1 and 24, not {self.predictor_table_bits}")
        _require(1 <= self.predictor_history_bits <= 32,
                 f"predictor_history_bits must be between 1 and 32, not {self.predictor_history_bits}")
        _require(_power_of_two(self.btb_entries), f"btb_entries must be a power of two, not {self.btb_entries}")
        _require(self.btb_ways >= 1 and self.btb_entries % self.btb_ways == 0,
                 f"btb_ways ({self.btb_ways}) must divide btb_entries ({self.btb_entries})")
        _require(1 <= self.ras_entries <= 1024, f"ras_entries must be between 1 and 1024, not {self.ras_entries}")
        _require(self.memory_dependence in MEMORY_DEPENDENCE,
                 f"memory_dependence must be one of {', '.join(MEMORY_DEPENDENCE)}, "
                 f"not {self.memory_dependence!r}")
        _require(1 <= self.wait_table_bits <= 20,
                 f"wait_table_bits must be between 1 and 20, not {self.wait_table_bits}")
        _require(self.deadlock_cycles >= 100, f"deadlock_cycles must be at least 100, not {self.deadlock_cycles}")


@dataclass(frozen=True)
class MachineConfig:
    """One machine: its memory, harts, core model and clocks."""

    memory_size: int = param(64 << 20, "bytes of guest RAM (a multiple of 4096)")
    ram_base: int = param(0x1000, "physical address where RAM starts (page aligned)")
    cpu: str = param("functional", f"core model, one of {', '.join(CPU_MODELS)}")
    harts: int = param(1, "number of harts (hardware threads)")
    clock_hz: int = param(1_000_000_000, "core clock: cycles per simulated second")
    timebase_hz: int = param(10_000_000, "rate of the `time` CSR; must divide clock_hz")
    stack_size: int = param(256 << 10, "bytes reserved below the top of RAM for the stack; "
                                     "brk never grows into it")
    seed: int = param(0, "seed for everything random (AT_RANDOM bytes, later policies)")
    core: CoreConfig = param(CoreConfig(), "the out-of-order core's parameters (used when cpu='ooo')")

    def __post_init__(self) -> None:
        _check_fields(self)
        _require(isinstance(self.core, CoreConfig),
                 f"core must be a CoreConfig, not {type(self.core).__name__}")
        _require(self.memory_size >= 16 * PAGE_SIZE,
                 f"memory_size must be at least 64 KiB, not {self.memory_size}")
        _require(self.memory_size % PAGE_SIZE == 0,
                 f"memory_size must be a multiple of 4096, not {self.memory_size}")
        _require(self.ram_base >= 0 and self.ram_base % PAGE_SIZE == 0,
                 f"ram_base must be a page-aligned address, not {self.ram_base:#x}")
        _require(self.ram_base + self.memory_size <= 0xF0000000,
                 f"RAM [{self.ram_base:#x}, {self.ram_base + self.memory_size:#x}) overlaps "
                 "the device region at 0xf0000000")
        _require(self.cpu in CPU_MODELS,
                 f"cpu must be one of {', '.join(CPU_MODELS)}, not {self.cpu!r}")
        _require(self.harts >= 1, f"harts must be at least 1, not {self.harts}")
        _require(self.clock_hz > 0, f"clock_hz must be positive, not {self.clock_hz}")
        _require(0 < self.timebase_hz <= self.clock_hz and self.clock_hz % self.timebase_hz == 0,
                 f"timebase_hz ({self.timebase_hz}) must divide clock_hz ({self.clock_hz})")
        _require(0 < self.stack_size <= self.memory_size // 2,
                 f"stack_size must be positive and at most half of memory_size, "
                 f"not {self.stack_size}")

    @property
    def ram_end(self) -> int:
        return self.ram_base + self.memory_size

    @property
    def time_divider(self) -> int:
        """Cycles per tick of the `time` CSR."""
        return self.clock_hz // self.timebase_hz

    def replace(self, **changes: Any) -> "MachineConfig":
        """A copy with some fields changed (validated like any config)."""
        return dataclasses.replace(self, **changes)


def describe(config_class: type = MachineConfig) -> list[tuple[str, Any, str]]:
    """(name, default, help) of every field, for `emu run --help-config` and the docs."""
    return [(f.name, f.default, f.metadata.get("help", "")) for f in dataclasses.fields(config_class)]
