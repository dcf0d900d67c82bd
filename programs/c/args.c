/* args: print argc and each argument with its length, then the arguments reversed and
 * joined with '+' in a buffer on the brk heap, and read stdin to end of file, echoing
 * its byte count and line count. Exits with argc (so the exit code is checked too). */
#include "io.h"
#include "syscalls.h"

int main(int argc, char **argv)
{
    put_str("argc ");
    put_int(argc);
    put_char('\n');
    size_t total = 0;
    for (int i = 0; i < argc; i++) {
        put_str("argv[");
        put_int(i);
        put_str("] = \"");
        put_str(argv[i]);
        put_str("\" (");
        put_int((long long)strlen(argv[i]));
        put_str(")\n");
        total += strlen(argv[i]) + 1;
    }

    char *joined = sys_brk(0);
    if (sys_brk(joined + total) != joined + total)
        return 100;
    char *end = joined;
    for (int i = argc - 1; i >= 0; i--) {
        size_t n = strlen(argv[i]);
        memmove(end, argv[i], n);
        end += n;
        *end++ = i ? '+' : '\n';
    }
    put_bytes(joined, (size_t)(end - joined));

    char buf[7];
    long n, bytes = 0, lines = 0;
    while ((n = sys_read(0, buf, sizeof buf)) > 0) {
        bytes += n;
        for (long i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    if (n < 0)
        return 101;
    put_str("stdin ");
    put_int(bytes);
    put_str(" bytes ");
    put_int(lines);
    put_str(" lines\n");
    return argc;
}
