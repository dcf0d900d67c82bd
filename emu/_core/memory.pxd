"""Guest physical memory: one flat buffer at a base address, and the decode cache.

The buffer is a numpy array owned by the System (system.pyx); the core keeps only
its raw pointer. Every guest access goes through `ram_offset`, which checks the
whole access lies inside RAM, so no guest address can reach outside the buffer.

Cores copy the PhysMem into a local at entry and pass that copy by value to the
inline accessors below: every guest store writes through a uint8_t pointer, which C
must assume may alias anything reachable through a pointer, so a by-value copy is
what lets the compiler keep base, size and the page table in registers.

The decode cache keeps a Decoded entry per instruction slot, but only for the 4 KiB
pages that code actually runs from (allocated on first fetch), so a machine with
a large RAM costs little more than the pages it touches.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t

from emu._core.decode cimport Decoded, decode
from emu._core.hart cimport Hart
from emu._core.opcodes cimport OP_UNDECODED
from emu._core.traps cimport CAUSE_STORE_ACCESS, CAUSE_STORE_MISALIGNED

cdef enum:
    PAGE_SHIFT = 12
    SLOTS_PER_PAGE = 1024   # 4 KiB / 4-byte instructions


cdef struct PhysMem:
    uint8_t* data           # RAM bytes; guest address base + i is data[i]
    uint32_t base           # guest physical address of data[0]
    uint32_t size           # bytes of RAM (>= one page, a multiple of the page size)
    Decoded** code_pages    # per RAM page: its decoded slots, or NULL until code runs there
    uint32_t npages
    Hart* harts             # every hart of the machine: a store breaks the others' LR
    uint32_t nharts         # reservations on the word it writes


cdef inline bint ram_offset(PhysMem m, uint32_t addr, uint32_t width, uint32_t* offset) noexcept nogil:
    """Set *offset to addr's index in data and return True when [addr, addr+width)
    is inside RAM; return False otherwise (an access fault)."""
    cdef uint32_t off = addr - m.base
    if off > m.size - width:
        return False
    offset[0] = off
    return True


cdef Decoded* allocate_code_page(Decoded** code_pages, uint32_t page) noexcept nogil
cdef void free_code_pages(PhysMem* m) noexcept nogil


cdef inline bint code_page(PhysMem m, uint32_t paddr, Decoded** slots, uint32_t** words) noexcept nogil:
    """Set *slots to the decoded instructions and *words to the RAM words of the 4 KiB
    page holding physical address paddr, and return True; False when that page is not
    RAM (RAM is whole, aligned pages). A core may keep both pointers while it runs
    from the page: decode-cache pages are never freed while a core runs."""
    cdef uint32_t off = (paddr & ~<uint32_t>((1 << PAGE_SHIFT) - 1)) - m.base
    cdef Decoded* page
    if off > m.size - (1 << PAGE_SHIFT):
        return False
    page = m.code_pages[off >> PAGE_SHIFT]
    if page == NULL:
        page = allocate_code_page(m.code_pages, off >> PAGE_SHIFT)
        if page == NULL:
            return False
    slots[0] = page
    words[0] = <uint32_t*>(m.data + off)
    return True


cdef inline Decoded* decoded_slot(Decoded* slots, uint32_t* words, uint32_t pc) noexcept nogil:
    """The decoded instruction at `pc` (4-aligned) of a code_page: decoded again whenever
    the word in memory is no longer the one it was decoded from."""
    cdef uint32_t i = (pc >> 2) & (SLOTS_PER_PAGE - 1)
    cdef Decoded* d = &slots[i]
    cdef uint32_t word = words[i]
    if d.word != word or d.op == OP_UNDECODED:
        decode(word, d)
    return d


cdef inline Decoded* fetch_decoded(PhysMem m, uint32_t pc) noexcept nogil:
    """The decoded instruction at physical `pc` (4-aligned), or NULL when pc is outside RAM."""
    cdef Decoded* slots
    cdef uint32_t* words
    if not code_page(m, pc, &slots, &words):
        return NULL
    return decoded_slot(slots, words, pc)


cdef enum:
    ACCESS_OK = -1      # returned by load/store when the access succeeded


cdef inline uint32_t ram_read(PhysMem m, uint32_t off, uint32_t width) noexcept nogil:
    """The `width` (1, 2, 4) bytes at RAM offset `off`, zero-extended; the caller has
    checked the access lies in RAM (ram_offset, or an MMU fast slot) and is aligned."""
    if width == 4:
        return (<uint32_t*>(m.data + off))[0]
    if width == 2:
        return (<uint16_t*>(m.data + off))[0]
    return m.data[off]


cdef inline int load(PhysMem m, uint32_t addr, uint32_t width, uint32_t* value,
                     int misaligned_cause, int access_cause) noexcept nogil:
    """Read `width` (1, 2, 4) bytes at addr into *value, zero-extended.

    Returns ACCESS_OK, or the trap cause to raise: `misaligned_cause` when addr is not
    a multiple of width, `access_cause` when the bytes are not all in RAM."""
    cdef uint32_t off
    if addr & (width - 1):
        return misaligned_cause
    if not ram_offset(m, addr, width, &off):
        return access_cause
    value[0] = ram_read(m, off, width)
    return ACCESS_OK


cdef inline void break_reservations(PhysMem m, uint32_t hart, uint32_t addr) noexcept nogil:
    """A store by `hart` to addr: other harts' LR reservations on that word are gone."""
    cdef uint32_t i
    cdef uint32_t word = addr & ~3U
    for i in range(m.nharts):
        if i != hart and m.harts[i].reserved and m.harts[i].reservation == word:
            m.harts[i].reserved = 0


cdef inline void ram_write(PhysMem m, uint32_t off, uint32_t width, uint32_t value,
                           uint32_t hart) noexcept nogil:
    """Write the low `width` bytes of value at RAM offset `off` for `hart` (checked by
    the caller like ram_read), ending other harts' reservations on the word."""
    if width == 4:
        (<uint32_t*>(m.data + off))[0] = value
    elif width == 2:
        (<uint16_t*>(m.data + off))[0] = <uint16_t>value
    else:
        m.data[off] = <uint8_t>value
    if m.nharts > 1:
        break_reservations(m, hart, m.base + off)


cdef inline int store(PhysMem m, uint32_t addr, uint32_t width, uint32_t value, uint32_t hart) noexcept nogil:
    """Write the low `width` bytes of value at addr for `hart`; returns ACCESS_OK or the
    cause (store/AMO address misaligned or access fault)."""
    cdef uint32_t off
    if addr & (width - 1):
        return CAUSE_STORE_MISALIGNED
    if not ram_offset(m, addr, width, &off):
        return CAUSE_STORE_ACCESS
    ram_write(m, off, width, value, hart)
    return ACCESS_OK
