"""A plain-Python Sv32 walker: the oracle for emu/_core/ptw.pyx and the TLBs.

Written from the RISC-V privileged spec, section "Virtual Address Translation
Process" (Sv32: PAGESIZE = 2**12, LEVELS = 2, PTESIZE = 4), for a U-mode access with
MXR and SUM clear, on this machine where physical memory is RAM only (any other
physical address fails the PMA check). Each numbered comment is the spec's step. No
caching: every call walks.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGESIZE = 1 << 12
LEVELS = 2
PTESIZE = 4

V, R, W, X, U, G, A, D = (1 << bit for bit in range(8))

#: Trap causes (mcause) per access type: page fault, access fault.
PAGE_FAULT = {"fetch": 12, "load": 13, "store": 15}
ACCESS_FAULT = {"fetch": 1, "load": 5, "store": 7}


@dataclass
class Ram:
    """Physical memory: `data` (a mutable byte buffer, e.g. a numpy uint8 array) at `base`."""

    data: object
    base: int

    def holds(self, addr: int, width: int) -> bool:
        return self.base <= addr and addr + width <= self.base + len(self.data)

    def read32(self, addr: int) -> int:
        i = addr - self.base
        return int.from_bytes(bytes(self.data[i:i + 4]), "little")

    def write32(self, addr: int, value: int) -> None:
        i = addr - self.base
        self.data[i:i + 4] = list(value.to_bytes(4, "little"))


@dataclass
class Walk:
    """A walk's outcome: `cause` (None on success) or the physical address `pa` (up to 34
    bits), the leaf `pte` as memory holds it afterwards, its level, whether the mapping is
    global, and the addresses of the PTEs read."""

    cause: int | None
    pa: int | None = None
    pte: int | None = None
    level: int | None = None
    is_global: bool = False
    pte_addrs: tuple[int, ...] = ()


def vpn(va: int, i: int) -> int:
    return (va >> (12 + 10 * i)) & 0x3FF


def pte_ppn(pte: int) -> int:
    return pte >> 10


def pte_ppn_field(pte: int, i: int) -> int:
    """pte.ppn[i]: PPN[0] is 10 bits (PTE 19:10), PPN[1] is 12 bits (PTE 31:20)."""
    return (pte >> 10) & 0x3FF if i == 0 else pte >> 20


def translate(ram: Ram, satp_ppn: int, va: int, access: str, *, hardware_ad: bool = True,
              speculative: bool = False) -> Walk:
    """Translate `va` for `access` ("fetch", "load" or "store"/AMO). With hardware_ad the
    A and D bits are set in `ram`, except that a speculative store never sets D (the spec:
    speculative walks must not set the dirty bit)."""
    # 1. a = satp.ppn * PAGESIZE, i = LEVELS - 1
    a = satp_ppn * PAGESIZE
    i = LEVELS - 1
    read: list[int] = []
    is_global = False
    while True:
        # 2. pte = the PTE at a + va.vpn[i] * PTESIZE; a PMA violation is an access fault
        pte_addr = a + vpn(va, i) * PTESIZE
        if not ram.holds(pte_addr, PTESIZE):
            return Walk(ACCESS_FAULT[access], pte_addrs=tuple(read))
        pte = ram.read32(pte_addr)
        read.append(pte_addr)
        # 3. pte.v = 0, or pte.r = 0 and pte.w = 1, or reserved bits set: page fault.
        #    (For non-leaf PTEs, D, A and U are reserved for future standard use.)
        if not pte & V or (not pte & R and pte & W):
            return Walk(PAGE_FAULT[access], pte_addrs=tuple(read))
        # 4. pte.r = 1 or pte.x = 1: a leaf (step 5). Otherwise a pointer to the next level.
        if pte & R or pte & X:
            break
        if pte & (D | A | U):
            return Walk(PAGE_FAULT[access], pte_addrs=tuple(read))
        i -= 1
        if i < 0:
            return Walk(PAGE_FAULT[access], pte_addrs=tuple(read))
        # "For non-leaf PTEs, the global setting implies that all mappings in the
        # subsequent levels of the page table are global."
        is_global = is_global or bool(pte & G)
        a = pte_ppn(pte) * PAGESIZE
    # 5. the leaf's r, w, x, u bits for a U-mode access (MXR = SUM = 0)
    needed = {"fetch": X, "load": R, "store": W}[access]
    if not pte & U or not pte & needed:
        return Walk(PAGE_FAULT[access], pte_addrs=tuple(read))
    # 6. i > 0 and pte.ppn[i-1:0] != 0: a misaligned superpage
    if i > 0 and any(pte_ppn_field(pte, j) for j in range(i)):
        return Walk(PAGE_FAULT[access], pte_addrs=tuple(read))
    # 7. pte.a = 0, or a store and pte.d = 0: fault, or set them in memory
    store = access == "store"
    if not pte & A or (store and not pte & D):
        if not hardware_ad:
            return Walk(PAGE_FAULT[access], pte_addrs=tuple(read))
        new = pte | A
        if store and not speculative:
            new |= D
        if new != pte:
            pte = new
            ram.write32(read[-1], pte)
    # 8. pa.pgoff = va.pgoff; a superpage takes pa.ppn[i-1:0] from va.vpn[i-1:0];
    #    pa.ppn[LEVELS-1:i] = pte.ppn[LEVELS-1:i]
    ppn = [pte_ppn_field(pte, j) for j in range(LEVELS)]
    for j in range(i):
        ppn[j] = vpn(va, j)
    pa = (ppn[1] << 22) | (ppn[0] << 12) | (va & 0xFFF)
    return Walk(None, pa, pte, i, is_global or bool(pte & G), tuple(read))


def access_result(ram: Ram, walk: Walk, access: str) -> tuple[int | None, int | None]:
    """(pa, None), or (None, cause) for the whole access: a translation to a physical
    address beyond 32 bits cannot be in RAM, so the access itself faults."""
    if walk.cause is not None:
        return None, walk.cause
    if walk.pa >= 1 << 32:
        return None, ACCESS_FAULT[access]
    return walk.pa, None
