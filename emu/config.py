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

#: Core models selectable with `cpu`; the detailed out-of-order core joins later.
CPU_MODELS = ("functional",)


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

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                _require(_is_int(value), f"{f.name} must be an integer, not {value!r}")
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
