# Startup and hook entry of the learning core (rv32imc, no interrupts, no OS).
# _start runs once at reset: stack, .data copied from its ROM image, .bss cleared, then the
# core parks at qrsim_idle. For every hook the tile writes the mailbox and starts the core at
# qrsim_hook_entry with a fresh stack; the core returns to qrsim_idle, where the simulator
# stops it (a real core would execute wfi there and wait for the tile's next request).
    .section .text.start, "ax"
    .globl _start
_start:
    la sp, __stack_top
    la a0, __data_start
    la a1, __data_end
    la a2, __data_load
1:  bgeu a0, a1, 2f
    lw t0, 0(a2)
    sw t0, 0(a0)
    addi a0, a0, 4
    addi a2, a2, 4
    j 1b
2:  la a0, __bss_start
    la a1, __bss_end
3:  bgeu a0, a1, 4f
    sw zero, 0(a0)
    addi a0, a0, 4
    j 3b
4:  j qrsim_idle

    .globl qrsim_hook_entry
qrsim_hook_entry:
    la sp, __stack_top
    call qrsim_dispatch
    .globl qrsim_idle
qrsim_idle:
    j qrsim_idle
