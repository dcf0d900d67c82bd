"""Why a core stops and returns to Python, and the trap causes it reports.

A core returns only with one of the Stop reasons. Causes are the RISC-V mcause
exception codes, so the kernel and the manual (isa/README.md) use one numbering.
"""


cdef enum Stop:
    STOP_BUDGET = 0     # the instruction budget ran out
    STOP_TRAP = 1       # an exception: see trap_cause / trap_value
    STOP_DEADLOCK = 2   # the out-of-order core committed nothing for too long (a bug)
    STOP_INVARIANT = 3  # an out-of-order invariant check failed (a bug)


cdef enum Cause:
    # RISC-V mcause exception codes
    CAUSE_FETCH_MISALIGNED = 0
    CAUSE_FETCH_ACCESS = 1
    CAUSE_ILLEGAL_INSTRUCTION = 2
    CAUSE_BREAKPOINT = 3
    CAUSE_LOAD_MISALIGNED = 4
    CAUSE_LOAD_ACCESS = 5
    CAUSE_STORE_MISALIGNED = 6
    CAUSE_STORE_ACCESS = 7
    CAUSE_ECALL_U = 8
    CAUSE_FETCH_PAGE_FAULT = 12  # Sv32 translation (sv32.pxd, ptw.pxd); mtval = the virtual address
    CAUSE_LOAD_PAGE_FAULT = 13
    CAUSE_STORE_PAGE_FAULT = 15  # stores, SC and AMOs


cdef extern from *:
    """
    #define EMU_CAUSE_INTERRUPT 0x80000000u
    """
    # An interrupt's cause is CAUSE_INTERRUPT | its mip bit number (bus.pxd MIP_*):
    # software 3, timer 7, external 11, as mcause writes them. It is taken between
    # instructions: pc is the next instruction to execute, and trap_value is 0.
    const unsigned int CAUSE_INTERRUPT "EMU_CAUSE_INTERRUPT"
