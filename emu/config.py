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
    l2tlb_latency: int = param(4, "cycles an L2 TLB hit adds to an address translation (Sv32 "
                                  "on; an L1 TLB hit adds none, a walk its PTE reads' memory time)")
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
        _require(0 <= self.l2tlb_latency <= 1000,
                 f"l2tlb_latency must be between 0 and 1000, not {self.l2tlb_latency}")
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


#: Replacement policies a cache can use (emu/_core/repl_*.pxd).
REPLACEMENT_POLICIES = ("lru", "plru", "random", "srrip")

#: Prefetchers a cache can have (emu/_core/prefetch.pxd).
PREFETCHERS = ("none", "next_line", "stride")


@dataclass(frozen=True)
class CacheConfig:
    """One cache level: geometry, timing, replacement and prefetching.

    Write-back and write-allocate. The defaults are a typical 32 KiB 8-way L1 data cache;
    `sets` (size / (ways * line_size)) must be a power of two, so 12-way or 48 KiB
    caches are possible.
    """

    size: int = param(32 << 10, "bytes of data the cache holds (sets * ways * line_size)")
    ways: int = param(8, "associativity (1 = direct mapped)")
    line_size: int = param(64, "bytes per line (a power of two, 4..4096)")
    hit_latency: int = param(4, "cycles from an access to its data when the line is present")
    mshrs: int = param(8, "miss status holding registers: outstanding misses before one stalls")
    replacement: str = param("lru", f"replacement policy, one of {', '.join(REPLACEMENT_POLICIES)}")
    prefetcher: str = param("none", f"prefetcher, one of {', '.join(PREFETCHERS)}")
    prefetch_degree: int = param(1, "lines a prefetcher asks for per trigger (1..16)")

    def __post_init__(self) -> None:
        _check_fields(self)
        _require(_power_of_two(self.line_size) and 4 <= self.line_size <= 4096,
                 f"line_size must be a power of two between 4 and 4096, not {self.line_size}")
        _require(self.ways >= 1, f"ways must be at least 1, not {self.ways}")
        _require(self.size > 0 and self.size % (self.ways * self.line_size) == 0,
                 f"size ({self.size}) must be a positive multiple of ways * line_size "
                 f"({self.ways} * {self.line_size})")
        _require(_power_of_two(self.sets),
                 f"the number of sets (size / (ways * line_size) = {self.sets}) must be a "
                 "power of two")
        _require(self.size <= 1 << 30, f"size must be at most 1 GiB, not {self.size}")
        _require(1 <= self.hit_latency <= 1000,
                 f"hit_latency must be between 1 and 1000, not {self.hit_latency}")
        _require(1 <= self.mshrs <= 256, f"mshrs must be between 1 and 256, not {self.mshrs}")
        _require(self.replacement in REPLACEMENT_POLICIES,
                 f"replacement must be one of {', '.join(REPLACEMENT_POLICIES)}, "
                 f"not {self.replacement!r}")
        _require(self.replacement != "plru" or (_power_of_two(self.ways) and self.ways <= 64),
                 f"plru needs a power-of-two number of ways up to 64, not {self.ways}")
        _require(self.prefetcher in PREFETCHERS,
                 f"prefetcher must be one of {', '.join(PREFETCHERS)}, not {self.prefetcher!r}")
        _require(1 <= self.prefetch_degree <= 16,
                 f"prefetch_degree must be between 1 and 16, not {self.prefetch_degree}")

    @property
    def sets(self) -> int:
        return self.size // (self.ways * self.line_size)

    def replace(self, **changes: Any) -> "CacheConfig":
        """A copy with some fields changed (validated like any config)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class MemoryHierarchyConfig:
    """The caches and DRAM: per-hart L1I and L1D, a shared L2, an optional shared L3.

    Line sizes may only grow outwards (an L1 line is never larger than an L2 line).
    """

    l1i: CacheConfig = param(CacheConfig(hit_latency=2, mshrs=4),
                             "per-hart instruction cache")
    l1d: CacheConfig = param(CacheConfig(), "per-hart data cache")
    l2: CacheConfig = param(CacheConfig(size=1 << 20, ways=16, hit_latency=12, mshrs=32),
                            "shared second-level cache")
    l3: CacheConfig | None = param(None, "optional shared third-level cache (None: no L3)")
    inclusive: bool = param(True, "outer levels hold everything the inner ones hold: an L2 "
                                  "(or L3) eviction removes the line from the levels inside it; "
                                  "False: non-inclusive (inner copies stay)")
    dram_latency: int = param(100, "cycles from a read leaving the last cache until its line "
                                   "arrives, with the DRAM channel idle")
    dram_bytes_per_cycle: int = param(16, "DRAM channel bandwidth: a line holds the channel for "
                                          "line_size / dram_bytes_per_cycle cycles (rounded up)")
    seed: int = param(0, "seed of the random replacement policy (0 <= seed < 2**64)")

    def __post_init__(self) -> None:
        _check_fields(self)
        for name in ("l1i", "l1d", "l2"):
            _require(isinstance(getattr(self, name), CacheConfig),
                     f"{name} must be a CacheConfig, not {type(getattr(self, name)).__name__}")
        _require(self.l3 is None or isinstance(self.l3, CacheConfig),
                 f"l3 must be a CacheConfig or None, not {type(self.l3).__name__}")
        _require(isinstance(self.inclusive, bool),
                 f"inclusive must be a bool, not {self.inclusive!r}")
        for inner, outer in (("l1i", "l2"), ("l1d", "l2"), ("l2", "l3")):
            if getattr(self, outer) is not None:
                _require(getattr(self, inner).line_size <= getattr(self, outer).line_size,
                         f"{inner}.line_size ({getattr(self, inner).line_size}) must not exceed "
                         f"{outer}.line_size ({getattr(self, outer).line_size})")
        _require(1 <= self.dram_latency <= 100_000,
                 f"dram_latency must be between 1 and 100000, not {self.dram_latency}")
        _require(self.dram_bytes_per_cycle >= 1,
                 f"dram_bytes_per_cycle must be at least 1, not {self.dram_bytes_per_cycle}")
        _require(0 <= self.seed < 1 << 64, f"seed must be in [0, 2**64), not {self.seed}")

    @property
    def levels(self) -> tuple[str, ...]:
        """The level names, innermost first: l1i, l1d, l2 (and l3)."""
        return ("l1i", "l1d", "l2") if self.l3 is None else ("l1i", "l1d", "l2", "l3")

    def replace(self, **changes: Any) -> "MemoryHierarchyConfig":
        """A copy with some fields changed (validated like any config)."""
        return dataclasses.replace(self, **changes)


#: Replacement policies a TLB can use (emu/_core/tlb.pxd).
TLB_REPLACEMENT = ("lru", "random")


def _tlb_shape_ok(entries: int, ways: int) -> bool:
    return 1 <= ways <= entries <= 65536 and entries % ways == 0 and _power_of_two(entries // ways)


@dataclass(frozen=True)
class MmuConfig:
    """Sv32 translation: each hart's iTLB and dTLB, the shared L2 TLB, A/D handling.

    A TLB's entries / ways sets must be a power of two (ways == entries: fully
    associative). Both L1 TLBs use `tlb_replacement`, and so does the L2 TLB.
    """

    itlb_entries: int = param(32, "instruction TLB entries per hart")
    itlb_ways: int = param(32, "instruction TLB associativity (= entries: fully associative)")
    dtlb_entries: int = param(32, "data TLB entries per hart")
    dtlb_ways: int = param(32, "data TLB associativity (= entries: fully associative)")
    l2tlb_entries: int = param(512, "entries of the L2 TLB the harts share (0: none)")
    l2tlb_ways: int = param(4, "L2 TLB associativity")
    tlb_replacement: str = param("lru", f"TLB replacement policy, one of {', '.join(TLB_REPLACEMENT)}")
    hardware_ad: bool = param(True, "the page-table walker sets the A and D bits in memory; "
                                    "False: a page fault when A (or D, for a store) is clear")

    def __post_init__(self) -> None:
        _check_fields(self)
        for name in ("itlb", "dtlb") + (("l2tlb",) if self.l2tlb_entries else ()):
            entries, ways = getattr(self, f"{name}_entries"), getattr(self, f"{name}_ways")
            _require(_tlb_shape_ok(entries, ways),
                     f"{name} needs 1 <= ways ({ways}) <= entries ({entries}) <= 65536 with "
                     f"entries / ways a power of two")
        _require(self.l2tlb_entries >= 0, f"l2tlb_entries must not be negative, not {self.l2tlb_entries}")
        _require(self.tlb_replacement in TLB_REPLACEMENT,
                 f"tlb_replacement must be one of {', '.join(TLB_REPLACEMENT)}, "
                 f"not {self.tlb_replacement!r}")
        _require(isinstance(self.hardware_ad, bool), f"hardware_ad must be a bool, not {self.hardware_ad!r}")

    def replace(self, **changes: Any) -> "MmuConfig":
        """A copy with some fields changed (validated like any config)."""
        return dataclasses.replace(self, **changes)


def rate_fraction(bytes_per_cycle: float) -> Any:
    """A bandwidth in bytes per cycle as the exact Fraction the device models use
    (numerator bytes per denominator cycles, denominator at most 65536)."""
    import math
    from fractions import Fraction

    _require(isinstance(bytes_per_cycle, (int, float)) and not isinstance(bytes_per_cycle, bool)
             and math.isfinite(bytes_per_cycle) and bytes_per_cycle > 0,
             f"a bandwidth must be a positive number of bytes per cycle, not {bytes_per_cycle!r}")
    rate = Fraction(bytes_per_cycle).limit_denominator(1 << 16)
    _require(0 < rate and rate.numerator < 1 << 32,
             f"a bandwidth must be between 1/65536 and 2**32 - 1 bytes per cycle, "
             f"not {bytes_per_cycle!r}")
    return rate


@dataclass(frozen=True)
class LinkConfig:
    """A simulated network link (emu/_core/link.pxd): a frame of n bytes occupies the
    sender's wire for n / bandwidth cycles and arrives `latency` cycles after its last
    byte left, unless the seeded loss model drops it."""

    latency: int = param(10_000, "cycles from a frame's last byte leaving to its arrival")
    bandwidth: float = param(0.125, "bytes per cycle the wire carries (0.125: 1 Gbit/s at 1 GHz)")
    loss: float = param(0.0, "probability that a frame is lost (0..1)")
    seed: int = param(0, "seed of the loss PRNG (0 <= seed < 2**64)")
    capacity: int = param(256, "frames in flight per direction; more are dropped")

    def __post_init__(self) -> None:
        _check_fields(self)
        _require(0 <= self.latency <= 1 << 40, f"latency must be between 0 and 2**40, not {self.latency}")
        rate_fraction(self.bandwidth)
        _require(isinstance(self.loss, (int, float)) and not isinstance(self.loss, bool)
                 and 0 <= self.loss <= 1, f"loss must be a probability in [0, 1], not {self.loss!r}")
        _require(0 <= self.seed < 1 << 64, f"seed must be in [0, 2**64), not {self.seed}")
        _require(1 <= self.capacity <= 65536, f"capacity must be between 1 and 65536, not {self.capacity}")

    def replace(self, **changes: Any) -> "LinkConfig":
        """A copy with some fields changed (validated like any config)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class DeviceConfig:
    """The devices on a machine's bus besides the CLINT and the PLIC, which every
    machine has (memory map in isa/README.md, "Devices"; built by emu/devices.py)."""

    uart: bool = param(True, "a UART at 0xf0000000")
    uart_stdin: bool = param(False, "the UART receives the machine's stdin (then the read "
                                    "syscall finds it taken); False: only what the API queues")
    block_image: str | None = param(None, "host image file of the block device at 0xf0001000 "
                                          "(size a positive multiple of 512); None: no block device")
    block_latency: int = param(50_000, "cycles every block request takes before its data moves")
    block_bandwidth: float = param(2.0, "bytes per cycle a block transfer moves")
    nic: bool = param(False, "a NIC at 0xf0002000 on a link with the `link` parameters")
    link: LinkConfig = param(LinkConfig(), "the NIC's link")
    bus_latency: int = param(20, "cycles an MMIO access occupies the bus")

    def __post_init__(self) -> None:
        _check_fields(self)
        for name in ("uart", "uart_stdin", "nic"):
            _require(isinstance(getattr(self, name), bool),
                     f"{name} must be a bool, not {getattr(self, name)!r}")
        _require(self.uart or not self.uart_stdin, "uart_stdin needs the UART (uart=True)")
        _require(self.block_image is None or (isinstance(self.block_image, str) and self.block_image),
                 f"block_image must be a file name or None, not {self.block_image!r}")
        _require(0 <= self.block_latency <= 1 << 40,
                 f"block_latency must be between 0 and 2**40, not {self.block_latency}")
        rate_fraction(self.block_bandwidth)
        _require(isinstance(self.link, LinkConfig),
                 f"link must be a LinkConfig, not {type(self.link).__name__}")
        _require(1 <= self.bus_latency <= 10_000,
                 f"bus_latency must be between 1 and 10000, not {self.bus_latency}")

    def replace(self, **changes: Any) -> "DeviceConfig":
        """A copy with some fields changed (validated like any config)."""
        return dataclasses.replace(self, **changes)


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
    quantum: int = param(1, "instructions a functional hart runs per turn when several harts "
                            "run (1: interleaved one by one; larger is faster and coarser)")
    core: CoreConfig = param(CoreConfig(), "the out-of-order core's parameters (used when cpu='ooo')")
    caches: "MemoryHierarchyConfig | None" = param(
        None, "the cache hierarchy timing memory: the out-of-order core's accesses, and the "
              "functional core's, which it then runs as an in-order blocking core; None: a "
              "fixed latency (core.memory_latency) and one cycle per functional instruction")
    mmu: MmuConfig = param(MmuConfig(), "each hart's Sv32 MMU: TLBs and A/D handling "
                                        "(translation is on when the kernel sets satp)")
    devices: "DeviceConfig | None" = param(
        DeviceConfig(), "devices on the system bus besides the CLINT and PLIC; None: no bus "
                        "at all (no MMIO, no interrupts)")

    def __post_init__(self) -> None:
        _check_fields(self)
        _require(isinstance(self.core, CoreConfig),
                 f"core must be a CoreConfig, not {type(self.core).__name__}")
        _require(self.caches is None or isinstance(self.caches, MemoryHierarchyConfig),
                 f"caches must be a MemoryHierarchyConfig or None, not {type(self.caches).__name__}")
        _require(isinstance(self.mmu, MmuConfig),
                 f"mmu must be an MmuConfig, not {type(self.mmu).__name__}")
        _require(self.devices is None or isinstance(self.devices, DeviceConfig),
                 f"devices must be a DeviceConfig or None, not {type(self.devices).__name__}")
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
        _require(1 <= self.quantum <= 1 << 20,
                 f"quantum must be between 1 and 2**20, not {self.quantum}")
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
