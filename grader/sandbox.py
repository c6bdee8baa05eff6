"""The walls around one submission: Linux namespaces, a private filesystem view, limits and a dropped uid.

Set up in two steps, so that each submission pays only for what must be fresh:
1. `prepare_worker()`, once per worker: the worker moves into its own mount and network
   namespaces (an empty network: a loopback interface that is down) and builds a template root:
   a tmpfs holding read-only binds of the system and Python libraries, the grader's own package
   (never `reference/`) and a few devices.
2. `spawn()` + `enter()`, per submission: a child cloned straight into new pid, mount, IPC and UTS
   namespaces, so it is pid 1 and everything the student starts dies with it; it mounts a fresh
   /proc, a fresh /tmp and a working folder holding a copy of this student's files only,
   `chroot`s into the template, sets its limits, takes the worker's own unprivileged uid, forbids
   new privileges and empties its environment.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import resource
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
WORKDIR = "/submission"
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf")
DEVICES = ("null", "zero", "random", "urandom")
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
       "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine, 56)


@dataclass(frozen=True)
class Policy:
    """The limits one submission runs under."""

    isolate: bool = True  # False only with the user's explicit --unsafe-no-sandbox
    memory_mb: int = 2048  # address space beyond what the preloaded worker already maps
    cpu_seconds: int = 300
    max_processes: int = 32
    max_file_mb: int = 64
    max_open_files: int = 256
    disk_mb: int = 64  # each of /tmp and the working folder
    uid: int = 60000


class SandboxError(OSError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), flags,
                       data and data.encode()), f"mount {target}")


def die_with_parent() -> None:
    """If the process that watches this one dies, this one dies too (and, as pid 1, all it started)."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    if os.getppid() == 1 and os.getpid() != 1:
        os._exit(137)


def _bind(root: Path, source: str, writable: bool = False) -> None:
    target = root / source.lstrip("/")
    if os.path.islink(source):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(os.readlink(source))
        return
    if not os.path.exists(source):
        return
    if os.path.isdir(source):
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    _mount(source, str(target), None, MS_BIND | MS_REC)
    if not writable:
        _mount(None, str(target), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_REC)


def _python_dirs() -> list[str]:
    """The interpreter's libraries and the environment's packages; nothing else of the host's."""
    dirs = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}
    return sorted(d for d in dirs if not any(d.startswith(s + "/") for s in SYSTEM_DIRS))


@functools.cache
def hidden_dirs() -> list[str]:
    """Grader folders that must look empty inside the sandbox even when they sit in site-packages."""
    spec = importlib.util.find_spec("reference")
    return [str(Path(spec.origin).parent)] if spec and spec.origin else []


def _copy_in(files: list[tuple[str, str]], workdir: Path, uid: int | None) -> None:
    for source, relative in files:
        target = workdir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if uid is not None:  # the student's uid may write its own folder, nothing else
        for path in {workdir, *(p for _, relative in files for p in (workdir / relative, *(workdir / relative).parents)
                                if p.is_relative_to(workdir))}:
            os.chown(path, uid, uid)


def prepare_worker(root: Path) -> None:
    """Once per worker, before any submission: private namespaces and the read-only template root."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", str(root), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    _bind_libraries(root, _library_dirs())
    (root / "dev").mkdir()
    for device in DEVICES:
        _bind(root, f"/dev/{device}", writable=True)
    for folder, mode in (("proc", 0o555), ("tmp", 0o1777), (WORKDIR.lstrip("/"), 0o755)):
        (root / folder).mkdir(mode=mode, exist_ok=True)
    _mount(None, str(root), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


@functools.cache
def _library_dirs() -> list[str]:
    """What the template root binds (cached: each submission's child looks again for those under /tmp,
    and finding them afresh, with find_spec's search of sys.path, cost 0.8 ms a submission)."""
    return [*SYSTEM_DIRS, *_python_dirs(), *SYSTEM_FILES, str(Path(__file__).resolve().parent)]


def _bind_libraries(root: Path, sources: list[str]) -> None:
    """Read-only binds of the libraries, then the grader's own folders that must look empty."""
    for source in sources:
        _bind(root, source)
    for hidden in hidden_dirs():
        if any(hidden == s or hidden.startswith(s.rstrip("/") + "/") for s in sources) and (root / hidden.lstrip("/")).exists():
            _mount("tmpfs", str(root / hidden.lstrip("/")), "tmpfs", MS_RDONLY, "size=4k")


def spawn(isolate: bool) -> int:
    """Fork, or with isolation clone straight into new pid, mount, IPC and UTS namespaces.

    The clone is the raw system call with os.fork's own before/after hooks around it, so the
    child is pid 1 of its namespace without the extra process a plain unshare would need.
    """
    if not isolate:
        return os.fork()
    flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | signal.SIGCHLD
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = _libc.syscall(_SYS_CLONE, ctypes.c_ulong(flags), None, None, None, None)
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
        return 0
    errno = ctypes.get_errno()
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise SandboxError(errno, f"clone: {os.strerror(errno)}")
    return pid


def _enter_root(root: Path, policy: Policy, files: list[tuple[str, str]]) -> None:
    """In the cloned child: fresh /proc, /tmp and working folder over the template, then chroot."""
    _mount("proc", str(root / "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("tmpfs", str(root / "tmp"), "tmpfs", MS_NOSUID | MS_NODEV, f"size={policy.disk_mb}m,mode=1777")
    # an environment installed under /tmp (a CI checkout, say) was just covered: bind it again
    if under_tmp := [d for d in _library_dirs() if d.startswith("/tmp/")]:
        _bind_libraries(root, under_tmp)
    handed_in = sum(os.path.getsize(source) for source, _ in files) // 2**20 + 1
    workdir = root / WORKDIR.lstrip("/")
    _mount("tmpfs", str(workdir), "tmpfs", MS_NOSUID | MS_NODEV, f"size={policy.disk_mb + handed_in}m,mode=0755")
    _copy_in(files, workdir, policy.uid)
    os.chroot(root)
    os.chdir(WORKDIR)


def _limit(which: int, value: int) -> None:
    resource.setrlimit(which, (value, value))


def _address_space_in_use() -> int:
    """VmSize, from the first field of /proc/self/statm (pages); read with a bare os.read, which is cheap."""
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    try:
        return int(os.read(fd, 200).split()[0]) * os.sysconf("SC_PAGE_SIZE")
    finally:
        os.close(fd)


def apply_limits(policy: Policy) -> None:
    """Resource limits; the memory limit counts from what the preloaded worker already maps."""
    _limit(resource.RLIMIT_AS, _address_space_in_use() + policy.memory_mb * 2**20)
    _limit(resource.RLIMIT_CPU, policy.cpu_seconds)
    _limit(resource.RLIMIT_FSIZE, policy.max_file_mb * 2**20)
    _limit(resource.RLIMIT_NOFILE, policy.max_open_files)
    _limit(resource.RLIMIT_CORE, 0)
    if policy.isolate:
        _limit(resource.RLIMIT_NPROC, policy.max_processes)


def drop_privileges(uid: int) -> None:
    if os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def enter(policy: Policy, files: list[tuple[str, str]], root: Path) -> None:
    """Called in pid 1 of the new namespaces, before any student code: walls, limits, identity."""
    os.environ.clear()
    os.environ.update(ENV)
    if policy.isolate:
        _enter_root(root, policy, files)
    else:
        root.mkdir(parents=True, exist_ok=True)
        _copy_in(files, root, None)
        os.chdir(root)
    apply_limits(policy)
    if policy.isolate:
        drop_privileges(policy.uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def unavailable_reason() -> str | None:
    """Why this machine cannot isolate submissions, or None when it can (tried in a throwaway child)."""
    if sys.platform != "linux":
        return f"isolation needs Linux namespaces; this is {sys.platform}"
    if os.geteuid() != 0:
        return "isolation needs root (namespaces, mounts and a per-worker uid); run the grader as root or in a container"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
            child = spawn(isolate=True)
            if child == 0:
                os._exit(0 if os.getpid() == 1 else 1)
            _, status = os.waitpid(child, 0)
            os._exit(os.waitstatus_to_exitcode(status))
        except BaseException as exc:
            os.write(write_fd, str(exc).encode()[:500])
            os._exit(1)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        message = reader.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    return None if os.waitstatus_to_exitcode(status) == 0 else f"cannot create namespaces here: {message}"


def describe(policy: Policy) -> str:
    if not policy.isolate:
        return ("NOT ISOLATED: run with --unsafe-no-sandbox, so student code could read other files, use the network "
                f"and outlive its limits; memory limit {policy.memory_mb} MB")
    return (f"isolated: own pid, mount, network, IPC and UTS namespaces; a read-only view of system and Python "
            f"libraries plus a copy of this hand-in only; no network; unprivileged uid; limits: memory {policy.memory_mb} MB, "
            f"CPU {policy.cpu_seconds} s, {policy.max_processes} processes, files {policy.max_file_mb} MB, "
            f"disk {policy.disk_mb} MB, {policy.max_open_files} open files")
