# Small rv32imc programs for the learning core's tests (hw_models/tests/test_rv32_core.cpp):
# one whose instruction counts are known by hand, and one entry point per fault.
    .option norvc
    .section .text.start, "ax"
    .globl _start
# Hand-counted: alu 2 (li) + 10 x (addi, addi) + 2 (la) = 24; mul 10; store 1; load 1; div 1;
# branches taken 9, not taken 1; jump 1 (j to tiny_end).
_start:
    li a0, 0
    li a1, 10
1:  addi a0, a0, 3
    mul a2, a0, a0
    addi a1, a1, -1
    bnez a1, 1b
    la t0, scratch
    sw a0, 0(t0)
    lw a4, 0(t0)
    div a5, a0, a1          # divide by zero: -1
    j tiny_end
    .globl tiny_end
tiny_end:
    j tiny_end

    .globl fault_illegal
fault_illegal:
    .word 0xb0002573        # csrr a0, mcycle: no CSRs on this core
    .globl fault_fetch
fault_fetch:
    li t0, 0x20000000
    jr t0
    .globl fault_misaligned
fault_misaligned:
    la t0, scratch
    lw a0, 2(t0)
    .globl fault_unmapped
fault_unmapped:
    li t0, 0x50000000
    sw a0, 0(t0)
    .globl fault_rom_store
fault_rom_store:
    sw a0, 0(zero)
    .globl fault_loop
fault_loop:
    j fault_loop
    .globl fault_stack
fault_stack:
    la sp, __stack_top
recurse:
    addi sp, sp, -16
    sw ra, 12(sp)
    call recurse
    .globl done
done:
    j done

    .section .bss
    .balign 4
scratch:
    .space 16
