"""Sv32 page tables in guest RAM, written from Python.

This module owns the host side of virtual memory: building and editing two-level Sv32
tables (PTE format in isa/README.md and emu/_core/sv32.pxd) inside a Machine's
physical memory, taking table pages from a pool the caller sets aside. It is what
tests, tools and the kernel use to give a hart an address space:

    tables = PageTables(machine, pool=(0x20_0000, 0x40_0000))
    tables.map(0x1000, 0x1000, 0x10_0000, "rwx")     # identity-map 1 MiB, user pages
    machine.set_satp(0, 1, asid=1, root_ppn=tables.root_ppn)

Nothing here is on a core's path: the cores walk the tables in C (ptw.pxd). Changing
a mapping that a hart may have cached needs `machine.sfence(...)` afterwards, as on
real hardware.
"""

from __future__ import annotations

from typing import Protocol

PAGE = 4096
MEGAPAGE = 4 << 20

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = (1 << i for i in range(8))
_PERMISSIONS = {"r": PTE_R, "w": PTE_W, "x": PTE_X}


class GuestMemory(Protocol):
    def read_memory(self, addr: int, length: int) -> bytes: ...
    def write_memory(self, addr: int, data: bytes) -> None: ...


def pte_bits(perms: str, *, user: bool = True, global_: bool = False,
             accessed: bool = False, dirty: bool = False) -> int:
    """V plus the flags `perms` ("r", "rw", "rx", "rwx", "x", ...) names."""
    bits = PTE_V
    for letter in perms:
        if letter not in _PERMISSIONS:
            raise ValueError(f"permissions are letters of 'rwx', not {perms!r}")
        bits |= _PERMISSIONS[letter]
    if bits & PTE_W and not bits & PTE_R:
        raise ValueError("a writable page must be readable (W without R is reserved)")
    if not bits & (PTE_R | PTE_X):
        raise ValueError("a leaf needs at least one of r, x")
    return (bits | (PTE_U if user else 0) | (PTE_G if global_ else 0)
            | (PTE_A if accessed else 0) | (PTE_D if dirty else 0))


class PageTables:
    """One Sv32 address space: a root table and the second-level tables under it, all
    in physical pages taken from `pool` = (start, end) of guest physical memory, which
    must be page aligned and otherwise unused."""

    def __init__(self, memory: GuestMemory, pool: tuple[int, int]):
        start, end = pool
        if start % PAGE or end % PAGE or end <= start:
            raise ValueError(f"pool {start:#x}..{end:#x} must be whole pages")
        self.memory = memory
        self._next = start
        self._end = end
        self.root = self._new_table()

    @property
    def root_ppn(self) -> int:
        """The root table's physical page number, for satp."""
        return self.root // PAGE

    def _new_table(self) -> int:
        if self._next >= self._end:
            raise MemoryError("the page-table pool is used up")
        table, self._next = self._next, self._next + PAGE
        self.memory.write_memory(table, bytes(PAGE))
        return table

    def _read(self, addr: int) -> int:
        return int.from_bytes(self.memory.read_memory(addr, 4), "little")

    def _write(self, addr: int, pte: int) -> None:
        self.memory.write_memory(addr, pte.to_bytes(4, "little"))

    def _leaf_slot(self, vaddr: int, megapage: bool) -> int:
        """The address of the PTE that maps vaddr (making a second-level table if needed)."""
        root_slot = self.root + (vaddr >> 22) * 4
        if megapage:
            return root_slot
        pointer = self._read(root_slot)
        if pointer & PTE_V and pointer & (PTE_R | PTE_X):
            raise ValueError(f"{vaddr:#x} lies in a megapage; unmap it first")
        if not pointer & PTE_V:
            table = self._new_table()
            pointer = (table // PAGE) << 10 | PTE_V
            self._write(root_slot, pointer)
        return (pointer >> 10) * PAGE + ((vaddr >> 12) & 0x3FF) * 4

    def map(self, vaddr: int, paddr: int, size: int, perms: str = "rw", *,
            user: bool = True, global_: bool = False, accessed: bool = False,
            dirty: bool = False, megapages: bool = False) -> None:
        """Map [vaddr, vaddr + size) to [paddr, ...) with `perms`, in 4 KiB pages, or in
        4 MiB megapages when `megapages` (then everything must be 4 MiB aligned). A/D
        start clear unless given (the walker sets them, or faults, per MmuConfig)."""
        step = MEGAPAGE if megapages else PAGE
        if vaddr % step or paddr % step or size % step or size <= 0:
            raise ValueError(f"vaddr, paddr and size must be multiples of {step:#x}")
        if vaddr + size > 1 << 32 or paddr + size > 1 << 32:
            raise ValueError("the range must lie below 4 GiB")
        bits = pte_bits(perms, user=user, global_=global_, accessed=accessed, dirty=dirty)
        for offset in range(0, size, step):
            self._write(self._leaf_slot(vaddr + offset, megapages),
                        ((paddr + offset) // PAGE) << 10 | bits)

    def unmap(self, vaddr: int, size: int = PAGE, *, megapages: bool = False) -> None:
        """Clear the leaves mapping [vaddr, vaddr + size) (tables stay allocated)."""
        step = MEGAPAGE if megapages else PAGE
        if vaddr % step or size % step:
            raise ValueError(f"vaddr and size must be multiples of {step:#x}")
        for offset in range(0, size, step):
            self._write(self._leaf_slot(vaddr + offset, megapages), 0)

    def pte(self, vaddr: int) -> int:
        """The leaf PTE mapping vaddr as memory holds it now (A/D included), or 0."""
        root_pte = self._read(self.root + (vaddr >> 22) * 4)
        if not root_pte & PTE_V or root_pte & (PTE_R | PTE_X):
            return root_pte
        return self._read((root_pte >> 10) * PAGE + ((vaddr >> 12) & 0x3FF) * 4)
