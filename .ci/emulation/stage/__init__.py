"""The emulation stage: Raspberry Pi OS userlands under qemu, compared digit by digit with x86.

One pipeline: host reference -> per row (root filesystem, install, checks) -> summary JSON.
Run it through .ci/emulate, which installs qemu and debootstrap, registers binfmt handlers and
runs 'python3 -m stage' with .ci/emulation on the path. Only the standard library is used: the
stage runs before, and apart from, any project venv.

Modules, in the order a run uses them: settings (argv and environment, frozen), rows (the row
table), host (wheel and x86-64 reference), rootfs and wheels (per row, while the host works),
guest (a command inside a row), install, checks (with digits and pytest_summary), summary.
"""
