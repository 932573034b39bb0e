@ Entry point of the qemu-arm test driver: run it, then exit(status) through the Linux syscall.
    .syntax unified
    .thumb
    .global _start
    .thumb_func
_start:
    bl run
    movs r7, #1
    svc 0
