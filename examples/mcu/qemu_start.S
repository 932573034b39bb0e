@ Entry point of a program run under qemu-arm user mode (the instruction count, the test drivers): run(), then exit(status) through the Linux syscall.
    .syntax unified
    .thumb
    .global _start
    .thumb_func
_start:
    bl run
    movs r7, #1
    svc 0
