"""A seccomp filter for sandbox processes, built by hand as classic BPF (standard library only).

Denies (EPERM) what no judged program needs and what would widen its reach: creating namespaces (``unshare``,
``clone`` with a ``CLONE_NEW*`` flag, ``setns``: no user namespace, hence no mounts of its own), mounting,
``chroot``/``pivot_root``, ``ptrace`` and cross-process memory access, kernel keyrings, ``bpf``,
``perf_event_open``, ``userfaultfd``, ``io_uring``, module loading, ``kexec``, ``reboot``, swap, quotas and the
kernel log. ``clone3`` gets ENOSYS (its flags live in memory the filter cannot read): glibc then uses ``clone``,
whose flags it can. Syscalls of another ABI (x32, i386 through ``int 0x80``) are refused as a whole.

Installed after ``PR_SET_NO_NEW_PRIVS`` in every sandbox process (``isolation.child_setup``) and in the forked
Python zygote (``zygote_program._become_zygote``, which gets the same bytes); inherited by all their children.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_ABS_W = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_NR, _ARCH, _ARG0_LOW = 0, 4, 16  # offsets in struct seccomp_data (little-endian: the low half of args[0])

# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

# machine -> (AUDIT_ARCH, {syscall: number}); syscalls >= 424 are numbered alike on every architecture.
_COMMON_NEW = {"open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
               "pidfd_getfd": 438, "mount_setattr": 442, "io_uring_setup": 425, "io_uring_enter": 426,
               "io_uring_register": 427}
ARCHES = {
    "x86_64": (0xC000003E, {
        "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "setns": 308, "keyctl": 250,
        "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "kexec_load": 246, "kexec_file_load": 320,
        "init_module": 175, "finit_module": 313, "delete_module": 176, "open_by_handle_at": 304, "swapon": 167,
        "swapoff": 168, "reboot": 169, "acct": 163, "quotactl": 179, "syslog": 103, "iopl": 172, "ioperm": 173,
        "vhangup": 153, "lookup_dcookie": 212, **_COMMON_NEW,
    }, {"unshare": 272, "clone": 56, "clone3": 435}),
    "aarch64": (0xC00000B7, {
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "setns": 268, "keyctl": 219, "add_key": 217,
        "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "kexec_load": 104, "kexec_file_load": 294,
        "init_module": 105, "finit_module": 273, "delete_module": 106, "open_by_handle_at": 265, "swapon": 224,
        "swapoff": 225, "reboot": 142, "acct": 89, "quotactl": 60, "syslog": 116, "vhangup": 58,
        "lookup_dcookie": 18, **_COMMON_NEW,
    }, {"unshare": 97, "clone": 220, "clone3": 435}),
}


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def filter_program(machine: str | None = None) -> bytes | None:
    """The filter's instructions (``struct sock_filter[]``) for this machine, or None where we have no table."""
    entry = ARCHES.get(machine or os.uname().machine)
    if entry is None:
        return None
    audit_arch, denied, special = entry
    deny, allow = _RET_ERRNO | errno.EPERM, _RET_ALLOW
    prog = [
        _op(_LD_ABS_W, _ARCH),
        _op(_JEQ_K, audit_arch, 1, 0),
        _op(_RET_K, deny),  # another ABI's numbers would mean other syscalls: refuse them all
        _op(_LD_ABS_W, _NR),
        _op(_JGE_K, 0x40000000, 0, 1),  # x32 numbers on x86_64
        _op(_RET_K, deny),
    ]
    for number in sorted(set(denied.values())):
        prog += [_op(_JEQ_K, number, 0, 1), _op(_RET_K, deny)]
    prog += [_op(_JEQ_K, special["clone3"], 0, 1), _op(_RET_K, _RET_ERRNO | errno.ENOSYS)]
    for name in ("unshare", "clone"):  # flags in args[0] (low half) for both, on both architectures
        prog += [
            _op(_JEQ_K, special[name], 0, 4),
            _op(_LD_ABS_W, _ARG0_LOW),
            _op(_JSET_K, NAMESPACE_FLAGS, 0, 1),
            _op(_RET_K, deny),
            _op(_LD_ABS_W, _NR),  # restore the number for the next comparison
        ]
    prog.append(_op(_RET_K, allow))
    return b"".join(prog)


_libc = ctypes.CDLL(None, use_errno=True)


def install(program: bytes) -> None:
    """Install ``program`` on this thread (needs ``PR_SET_NO_NEW_PRIVS`` first, or CAP_SYS_ADMIN)."""
    buf = (ctypes.c_ubyte * len(program)).from_buffer_copy(program)
    fprog = (ctypes.c_ubyte * 16).from_buffer_copy(struct.pack("<H6xQ", len(program) // 8, ctypes.addressof(buf)))
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_void_p(ctypes.addressof(fprog)), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
