/* sort: generate pseudo-random numbers (xorshift32), sort them with a generic
 * quicksort through a comparison-function pointer, check the order, and print a
 * checksum (and that the sort kept the same numbers as a memcpy'd copy); then sort
 * records (structs with a short key) by key, stably, with an insertion sort on the brk
 * heap. Exit code 1 if a check fails, 2 if brk fails. */
#include "io.h"
#include "syscalls.h"

#define COUNT 1000
#define RECORDS 64

static unsigned xorshift_state = 2463534242u;

static unsigned next_random(void)
{
    unsigned x = xorshift_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return xorshift_state = x;
}

typedef int (*compare_fn)(const void *, const void *);

static void swap_bytes(char *a, char *b, size_t size)
{
    while (size--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void quicksort(char *base, size_t count, size_t size, compare_fn compare)
{
    while (count > 1) {
        char *pivot = base + (count / 2) * size;
        swap_bytes(pivot, base + (count - 1) * size, size);
        pivot = base + (count - 1) * size;
        size_t store = 0;
        for (size_t i = 0; i + 1 < count; i++) {
            if (compare(base + i * size, pivot) < 0) {
                swap_bytes(base + i * size, base + store * size, size);
                store++;
            }
        }
        swap_bytes(base + store * size, pivot, size);
        /* Recurse into the smaller part, loop on the larger: O(log n) stack. */
        if (store < count - store - 1) {
            quicksort(base, store, size, compare);
            base += (store + 1) * size;
            count -= store + 1;
        } else {
            quicksort(base + (store + 1) * size, count - store - 1, size, compare);
            count = store;
        }
    }
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

struct record {
    short key;
    unsigned char tag;
    int sequence;
    char name[6];
};

int main(void)
{
    static int values[COUNT];
    for (int i = 0; i < COUNT; i++)
        values[i] = (int)next_random();
    static int unsorted[COUNT];
    memcpy(unsorted, values, sizeof values);
    quicksort((char *)values, COUNT, sizeof values[0], compare_ints);

    unsigned checksum = 0, sum_before = 0, sum_after = 0;
    int failures = 0;
    for (int i = 0; i < COUNT; i++) {
        checksum = checksum * 31u + (unsigned)values[i];
        sum_before += (unsigned)unsorted[i] * (unsigned)unsorted[i];
        sum_after += (unsigned)values[i] * (unsigned)values[i];
        if (i && values[i - 1] > values[i])
            failures++;
    }
    failures += sum_before != sum_after;
    put_str("min ");
    put_int(values[0]);
    put_str(" median ");
    put_int(values[COUNT / 2]);
    put_str(" max ");
    put_int(values[COUNT - 1]);
    put_str("\nchecksum ");
    put_hex(checksum);
    put_char('\n');

    struct record *records = sys_brk(0);
    if (sys_brk(records + RECORDS) != records + RECORDS)
        return 2;
    for (int i = 0; i < RECORDS; i++) {
        struct record r = {(short)(next_random() % 9) - 4, (unsigned char)i, i, "r"};
        r.name[1] = (char)('a' + i % 26);
        records[i] = r;
    }
    for (int i = 1; i < RECORDS; i++) {
        struct record r = records[i];
        int j = i;
        for (; j > 0 && records[j - 1].key > r.key; j--)
            records[j] = records[j - 1];
        records[j] = r;
    }
    for (int i = 0; i < RECORDS; i++) {
        if (i && (records[i - 1].key > records[i].key
                  || (records[i - 1].key == records[i].key
                      && records[i - 1].sequence > records[i].sequence)))
            failures++;
        if (i % 8 == 0) {
            put_int(records[i].key);
            put_char(':');
            put_str(records[i].name);
            put_char('/');
            put_int(records[i].sequence);
            put_char(i % 64 == 56 ? '\n' : ' ');
        }
    }
    put_str(failures ? "FAILED\n" : "ok\n");
    return failures ? 1 : 0;
}
