/* atomics: the A extension through gcc's __atomic builtins (single-threaded, so the
 * results are deterministic): amoadd/amoswap/amoand/amoor/amoxor for word fetch-ops,
 * lr.w/sc.w loops for compare-exchange and nand, a byte test-and-set (amoor.w on the
 * containing word), and fences for seq_cst loads and stores. Prints every old value and
 * the final state. (Halfword fetch-ops would need libatomic, which is not linked.) */
#include "io.h"

static int counter;
static unsigned bits = 0xF0F0F0F0u;
static unsigned char flag;

static void show(const char *label, long long value)
{
    put_str(label);
    put_int(value);
    put_char('\n');
}

int main(void)
{
    for (int i = 1; i <= 10; i++)
        __atomic_fetch_add(&counter, i * i, __ATOMIC_RELAXED);
    show("sum of squares ", counter);
    show("fetch_sub old ", __atomic_fetch_sub(&counter, 400, __ATOMIC_ACQUIRE));
    show("after sub ", __atomic_load_n(&counter, __ATOMIC_SEQ_CST));
    show("exchange old ", __atomic_exchange_n(&counter, -2147483647 - 1, __ATOMIC_ACQ_REL));
    show("add_fetch wraps ", __atomic_add_fetch(&counter, -1, __ATOMIC_SEQ_CST));

    show("fetch_and old ", __atomic_fetch_and(&bits, 0xFF00FF00u, __ATOMIC_RELEASE));
    show("fetch_or old ", __atomic_fetch_or(&bits, 0x0000000Fu, __ATOMIC_RELAXED));
    show("fetch_xor old ", __atomic_fetch_xor(&bits, 0xFFFFFFFFu, __ATOMIC_SEQ_CST));
    show("fetch_nand old ", __atomic_fetch_nand(&bits, 0x12345678u, __ATOMIC_SEQ_CST));
    put_str("bits ");
    put_hex(bits);
    put_char('\n');

    int expected = 5;
    int swapped = __atomic_compare_exchange_n(&counter, &expected, 6, 0,
                                              __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    show("cas with wrong expected: swapped ", swapped);
    show("  expected now ", expected);
    swapped = __atomic_compare_exchange_n(&counter, &expected, 6, 0,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    show("cas with right expected: swapped ", swapped);
    show("  counter ", counter);

    show("test_and_set first ", __atomic_test_and_set(&flag, __ATOMIC_ACQUIRE));
    show("test_and_set second ", __atomic_test_and_set(&flag, __ATOMIC_ACQUIRE));
    __atomic_clear(&flag, __ATOMIC_RELEASE);
    show("flag cleared ", flag);

    __atomic_store_n(&counter, 0, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    show("stored ", __atomic_load_n(&counter, __ATOMIC_RELAXED));
    return 0;
}
