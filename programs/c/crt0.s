# crt0: the entry point of the freestanding C test programs.
#
# Linux (and emu's loader) start a static executable with sp pointing at argc, then
# the argv pointers, a NULL, the envp pointers and a NULL. _start sets gp for the
# linker's gp-relative relaxations (with relaxation off, or `la gp, __global_pointer$`
# would itself be relaxed to `mv gp, gp`), calls main(argc, argv, envp) and passes
# main's return value to the exit syscall.
        .text
        .globl  _start
_start:
        .option push
        .option norelax
        la      gp, __global_pointer$
        .option pop
        lw      a0, 0(sp)           # argc
        addi    a1, sp, 4           # argv
        slli    a2, a0, 2
        add     a2, a2, a1
        addi    a2, a2, 4           # envp: after argv's NULL
        call    main
        li      a7, 93              # exit(main's return value)
        ecall
