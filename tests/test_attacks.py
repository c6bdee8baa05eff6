"""Adversarial hand-ins against the sandbox, the result channel, the scoring and the reports.

One batch: a module fixture writes `hand-ins/duke-hw5-6/` with an honest student and one student
per attack, runs `grader run` once as a subprocess (with a secret in its environment and a TCP,
UDP and abstract-socket listener open on this machine), and the tests assert on results.json,
the HTML reports, the hand-ins folder and the host's processes and files. Attacks that would
crash the whole run, corrupt other hand-ins' results or need symlinks get a small run of their own.

Every payload is bounded, so that even a broken sandbox cannot harm the machine: at most 200
forks (each exits after 20 s), at most ~3 GB allocated, at most 200 MB written, every path under
this test's tmp folder or the sandbox's own folders, network only to listeners of this test.

Four attacks found holes that are now closed, and their tests stay as regressions: reading the
previous student's answers from the memory a child was forked from, forging answers on the
worker's protocol pipe, crashing the run with framed output on inherited descriptors, and
copying a classmate's file through a symlink.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.sandbox import Policy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "duke-hw5-6"
SANDBOX_UIDS = range(60000, 60064)
REPORT_LIMIT = 2 * 2**20
POLICY = Policy()  # the limits every sandbox gets (the rubric sets the memory)
MEMORY_MB = tomllib.loads((ROOT / "rubrics" / f"{ASSIGNMENT}.toml").read_text())["limits"]["memory_mb"]

POINTS = {"3A.i": 3.0, "3A.ii": 3.0, "3A.iii": 5.0, "3B": 6.0, "3C.top": 4.0, "3C.bottom": 4.0,
          "5A": 2.5, "5B": 2.5}
PLEDGE = "I adhered to the Duke Community Standard in the completion of this assignment. J.D."
ANSWER_CODE = {
    "3A.i": 'policy_A_gamma1 = "right"\n',
    "3A.ii": 'policy_A_gamma0 = "stay"\n',
    "3A.iii": "gamma_A = 0.5\n",
    "3B": 'gamma_B = 1 / 3\npolicy_B_below = "left"\npolicy_B_above = "right"\n',
    "3C.top": "gamma_C_top = 6 ** (-1 / 3)\n",
    "3C.bottom": "gamma_C_bottom = 110 ** (-1 / 99)\n",
    "5A": 'hours = "10"\n',
    "5B": f"pledge = {PLEDGE!r}\n",
}
# Wrong answers for every value the rubric reads (policies swapped, discounts off).
WRONG_CODE = ('policy_A_gamma1 = "stay"\npolicy_A_gamma0 = "right"\ngamma_A = 0.9\ngamma_B = 0.9\n'
              'policy_B_below = "right"\npolicy_B_above = "left"\ngamma_C_top = 0.9\ngamma_C_bottom = 0.5\n')
CORRECT_VALUES = {"policy_A_gamma1": "right", "policy_A_gamma0": "stay", "gamma_A": 0.5, "gamma_B": 1 / 3,
                  "policy_B_below": "left", "policy_B_above": "right", "gamma_C_top": 6 ** (-1 / 3),
                  "gamma_C_bottom": 110 ** (-1 / 99), "hours": "10", "pledge": PLEDGE}
# Lines of the reference and the rubric that no report shows (expected values are shown; code is not).
REFERENCE_SNIPPETS = ("_ROOT_TOL = 1e-7", "def _polish(poly", "CHAIN_C_BOTTOM = {")
RUBRIC_SNIPPETS = ("# Duke Intro to Deep Learning HW 5 & 6, written questions", 'expected = "rl:spec_gamma_A"')


def answers(*parts: str) -> str:
    return "".join(ANSWER_CODE[p] for p in (parts or POINTS))


def scores(*full: str, **partial: float) -> dict[str, float]:
    """Expected auto points per part: `full` parts at full marks, `partial` as given, the rest 0."""
    table = {part: (POINTS[part] if part in full else 0.0) for part in POINTS}
    table.update({part.replace("_", "."): value for part, value in partial.items()})
    return table


FULL = scores(*POINTS)
ALL_BUT_PLEDGE = scores(*[p for p in POINTS if p != "5B"])


# Scans the process's own anonymous memory (heap, stack, mmap'd arenas: where a worker's old data
# would sit) for NEEDLE followed by a random tail; file mappings are skipped (reading past their end
# would crash the scan, and code is not data).
MEMORY_SCAN = """
import ctypes, re
def memory_scan(needle, tail):
    hits = []
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        start, end = (int(x, 16) for x in fields[0].split("-"))
        name = fields[5] if len(fields) > 5 else ""
        if fields[1][0] != "r" or end - start > 2**28 or name not in ("", "[heap]", "[stack]"):
            continue
        data = ctypes.string_at(start, end - start)
        at = data.find(needle)
        while at >= 0 and len(hits) < 5:
            if re.fullmatch(tail, data[at + len(needle):at + len(needle) + 24]):
                hits.append(data[at:at + len(needle) + 24].decode("latin-1"))
            at = data.find(needle, at + 1)
    return hits
"""


def notebook(*cells: str, markdown: str = "") -> str:
    items = [{"cell_type": "markdown", "metadata": {}, "source": markdown}] if markdown else []
    items += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
              for c in cells]
    return json.dumps({"cells": items, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                                   "display_name": "Python 3"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1)


def code(text: str, **values: object) -> str:
    """Dedented source; @@NAME@@ is replaced by repr(value), @@NAME:raw@@ by str(value) (inside literals)."""
    text = textwrap.dedent(text).lstrip("\n")
    for name, value in values.items():
        text = text.replace(f"@@{name}:raw@@", str(value)).replace(f"@@{name}@@", repr(value))
    assert "@@" not in text, text
    return text


# ---------------------------------------------------------------- the host side: listeners, processes, hashes

class Listeners:
    """A TCP, a UDP and an abstract unix socket on this machine's loopback; records every contact."""

    def __init__(self, token: str) -> None:
        self.contacts: list[str] = []
        self.stop = threading.Event()
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_name = f"grader-attack-{token}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen(16)
        self.tcp_port = self.tcp.getsockname()[1]
        self.udp_port = self.udp.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, args=(s, n), daemon=True)
                        for s, n in ((self.tcp, "tcp"), (self.unix, "unix"))]
        self.threads.append(threading.Thread(target=self._receive, daemon=True))
        for thread in self.threads:
            thread.start()

    def _accept(self, server: socket.socket, name: str) -> None:
        server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                connection, peer = server.accept()
            except (socket.timeout, OSError):
                continue
            self.contacts.append(f"{name} connection from {peer!r}")
            connection.close()

    def _receive(self) -> None:
        self.udp.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            self.contacts.append(f"udp datagram {data[:40]!r} from {peer!r}")

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=2)
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


@dataclass(frozen=True)
class Proc:
    pid: int
    uid: int
    ppid: int
    cmdline: tuple[str, ...]


def processes() -> dict[int, Proc]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        ppid = int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))
        args = tuple(a.decode(errors="replace") for a in cmdline.split(b"\0") if a)
        found[int(entry)] = Proc(int(entry), uid, ppid, args)
    return found


def escaped(procs: dict[int, Proc]) -> list[Proc]:
    """Processes of a sandbox uid that no live grading worker owns (a concurrent grader's are fine)."""
    workers = {p.pid for p in procs.values() if "grader.zygote" in p.cmdline}

    def under_worker(pid: int) -> bool:
        seen: set[int] = set()
        while pid > 1 and pid not in seen:
            seen.add(pid)
            if pid in workers:
                return True
            pid = procs[pid].ppid if pid in procs else 0
        return False

    return [p for p in procs.values() if p.uid in SANDBOX_UIDS and not under_worker(p.pid)]


def tree_digest(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (links not followed): its kind, mode and content or target."""
    digest = {}
    for path in sorted([folder, *folder.rglob("*")]):
        info = path.lstat()
        if path.is_symlink():
            value = "link:" + os.readlink(path)
        elif path.is_dir():
            value = "dir"
        else:
            value = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
        digest[str(path.relative_to(folder))] = f"{oct(info.st_mode)} {value}"
    return digest


# ---------------------------------------------------------------- running the grader and reading what it wrote

@dataclass
class Run:
    out: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    results: dict[str, dict] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # student -> raw HTML

    def part(self, student: str, part: str) -> dict:
        return next(p for p in self.results[student]["parts"] if p["id"] == part)

    def auto_scores(self, student: str) -> dict[str, float]:
        return {p["id"]: p["score"] for p in self.results[student]["parts"] if p["id"] in POINTS}

    def text(self, student: str) -> str:
        """The student's report as text (tags dropped, entities decoded): what a reader sees."""
        return html.unescape(re.sub(r"<[^>]+>", "\n", self.pages[student]))

    def marker(self, student: str, name: str) -> str:
        """The value an attack printed as `NAME=value` (one line); the report's source shows no values."""
        found = [v.strip() for v in re.findall(rf"^\s*{name}=(.*)$", self.text(student), re.M)]
        assert found, f"{student} printed no {name}=...; its report:\n{self.text(student)[:3000]}"
        return found[-1]

    def files(self) -> list[Path]:
        return sorted(p for p in self.out.rglob("*") if p.is_file())

    def public_files(self) -> list[Path]:
        """What a student or TA reads: results.json, grades.csv and the HTML pages."""
        return [p for p in self.files() if p.suffix in (".html", ".csv") or p.name == "results.json"]


def run_grader(handins: Path, out: Path, env: dict[str, str], jobs: int = 2) -> Run:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "grader.cli", "run", str(handins), "--out", str(out), "--jobs", str(jobs)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    run = Run(out, done.returncode, done.stdout, done.stderr, time.monotonic() - started)
    if (out / "results.json").exists():
        run.results = {r["student"]: r for r in json.loads((out / "results.json").read_text())}
    index = out / "index.html"
    if index.exists():
        for href, name in re.findall(r'<a href="([^"]+)">([^<]*)</a>', index.read_text()):
            page = out / html.unescape(href)
            if page.exists():
                run.pages[html.unescape(name)] = page.read_text()
    return run


def write_student(assignment_dir: Path, student: str, files: dict[str, str]) -> Path:
    folder = assignment_dir / student
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


# ---------------------------------------------------------------- the students

@dataclass
class Batch:
    run: Run
    tmp: Path
    handins: Path
    token: str
    secret: str
    honest_marker: str
    honest_file: Path
    expected: dict[str, dict[str, float]]
    digest_before: dict[str, str]
    digest_after: dict[str, str]
    contacts: list[str]
    procs_before: dict[int, Proc]
    procs_after: dict[int, Proc]
    escaped_after: list[Proc]
    host_paths: dict[str, Path]


def honest_notebook(marker: str) -> str:
    return notebook(
        "import numpy as np\n\n# " + marker + " (a private note that must never reach another student)\n",
        code("""
            def discounted_return(rewards, gamma):
                return float(sum(gamma ** k * r for k, r in enumerate(rewards)))
            """),
        answers("3A.i", "3A.ii", "3A.iii", "3B"),
        answers("3C.top", "3C.bottom"),
        answers("5A", "5B"),
        markdown="# HW 5 & 6, honest student",
    )


def attack_students(tmp: Path, handins_dir: Path, out: Path, token: str, honest_file: Path,
                    listeners: Listeners, host_paths: dict[str, Path]) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, float]]]:
    """name -> files, and name -> expected auto points per part."""
    students: dict[str, dict[str, str]] = {}
    expected: dict[str, dict[str, float]] = {}

    def add(name: str, files: dict[str, str], points: dict[str, float]) -> None:
        students[name], expected[name] = files, points

    # 6a. A busy loop in a middle cell: interrupted at the cell limit, later cells still run.
    # (Second in name order and slow, so that the copycat below runs on the honest student's worker.)
    add("a01_loop", {"loop.ipynb": notebook(answers("3A.i", "3A.ii"), "while True:\n    pass\n",
                                            answers("3A.iii", "3B", "3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # Copycat: looks through the worker's memory that it inherited for the previous hand-in's answers.
    add("a02_copycat", {"copycat.ipynb": notebook(
        code("""
            import gc
            stolen = {}
            for obj in gc.get_objects():
                if type(obj) is dict and type(obj.get("frames")) is list:
                    for frame in obj["frames"]:
                        if type(frame) is dict and frame.get("t") == "values" and type(frame.get("values")) is dict:
                            stolen.update((k, v) for k, v in frame["values"].items() if type(v) in (str, int, float))
            stolen.pop("hours", None), stolen.pop("pledge", None)
            globals().update(stolen)
            print("COPIED=" + ",".join(sorted(stolen)))
            """),
        MEMORY_SCAN + 'print("MEMLEAK=" + repr(memory_scan(("HONEST" + "-MARKER-").encode(), rb"[0-9a-f]{24}")))\n',
        answers("5A", "5B"))}, scores("5A", "5B"))

    # 1. Objects that claim to equal anything, of float, int, str, numpy and ndarray types.
    add("b_always_equal", {"always_equal.py": code("""
        import numpy as np
        yes = {"__eq__": lambda self, other: True, "__ne__": lambda self, other: False}
        E = type("E", (float,), {**yes, "__hash__": float.__hash__})
        I = type("I", (int,), {**yes, "__hash__": int.__hash__})
        S = type("S", (str,), {**yes, "__hash__": str.__hash__})
        class Anything:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            __hash__ = object.__hash__
            def __float__(self): return 0.5
            def __str__(self): return "right"
        F64 = type("F64", (np.float64,), {**yes, "__hash__": np.float64.__hash__})
        class A(np.ndarray):
            def __eq__(self, other): return np.ones(self.shape, bool)
        gamma_A = E(0.1)
        gamma_B = I(0)
        policy_A_gamma1 = S("stay")
        policy_A_gamma0 = Anything()
        policy_B_below = S("right")
        policy_B_above = Anything()
        gamma_C_top = F64(0.1)
        gamma_C_bottom = np.array([0.1]).view(A)
        def discounted_return(rewards, gamma):
            return E(-1.0)
        """) + answers("5A", "5B")}, scores("5A", "5B"))

    # 2. NaN and infinity, as floats, numpy scalars and arrays.
    add("c_nan", {"nan.py": code("""
        import numpy as np
        gamma_A = float("nan")
        gamma_B = float("inf")
        gamma_C_top = np.float64("nan")
        gamma_C_bottom = np.array([np.nan])
        """) + answers("3A.i", "3A.ii", "5A", "5B") + 'policy_B_below = "left"\npolicy_B_above = "right"\n'},
        scores("3A.i", "3A.ii", "5A", "5B", **{"3B": 3.0}))

    # 3. The comparison functions patched to say yes, with wrong answers.
    add("d_monkeypatch", {"patch.py": code("""
        import math, numpy, numpy.testing, operator
        always = lambda *args, **kwargs: True
        numpy.isclose = numpy.allclose = numpy.array_equal = math.isclose = operator.eq = always
        numpy.testing.assert_allclose = lambda *args, **kwargs: None
        def discounted_return(rewards, gamma):
            return 0.0
        """) + WRONG_CODE + answers("5A", "5B")}, scores("5A", "5B"))

    # 4. sys.exit and KeyboardInterrupt in middle cells.
    add("e_sysexit", {"exit.ipynb": notebook(answers("3A.i", "3A.ii"), "import sys\nsys.exit(0)\n",
                                             answers("3A.iii", "3B"), "raise KeyboardInterrupt\n",
                                             "raise SystemExit(3)\n", answers("3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # 5. os._exit and a self-inflicted SIGKILL in middle cells: the run is repeated without them.
    add("f_osexit", {"osexit.ipynb": notebook(answers("3A.i"), "import os\nos._exit(0)\n",
                                              answers("3A.ii", "3A.iii", "3B"),
                                              "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
                                              answers("3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # 6b. A loop that swallows the grader's interruption.
    add("g_swallow", {"swallow.ipynb": notebook(answers("3A.i", "3A.ii", "3A.iii"), code("""
        import time
        while True:
            try:
                time.sleep(10)
            except BaseException:
                pass
        """), answers("3B", "3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # 7. Daemons: a new session running `sleep 30`, and a double fork with setsid that execs it.
    add("h_orphans", {"orphans.ipynb": notebook(code("""
        import os, subprocess
        daemon = subprocess.Popen(["sleep", "30"], start_new_session=True)
        first = os.fork()
        if first == 0:
            try:
                os.setsid()
                if os.fork() == 0:
                    os.execvp("sleep", ["sleep", "30"])
            finally:
                os._exit(0)
        os.waitpid(first, 0)
        print(f"DAEMON={daemon.pid}")
        """), answers())}, FULL)

    # 9. A memory bomb (up to 3 GB in 100 MB steps) between answer cells.
    add("i_memory", {"hog.ipynb": notebook(answers("3A.i", "3A.ii", "3A.iii", "3B"), code("""
        def hog():
            blocks = []
            try:
                for _ in range(30):
                    blocks.append(bytearray(b"x") * (100 * 2**20))
            finally:
                print(f"ALLOCATED_MB={100 * len(blocks)}")
        hog()
        """), answers("3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # 10. 50 MB of printed output and a 5 MB exception message.
    add("j_output", {"loud.ipynb": notebook(answers("3A.i", "3A.ii", "3A.iii", "3B"), code("""
        import os, sys
        line = "x" * (2**20 - 1)
        for _ in range(50):
            print(line)
            sys.stderr.write(line)
        os.write(1, b"y" * 2**20)
        """), 'raise ValueError("z" * 5_000_000)\n', answers("3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # 11. Filling /tmp and the working folder (up to 200 MB each), and one file past the size limit.
    add("k_disk", {"fill.ipynb": notebook(answers("3A.i", "3A.ii", "3A.iii", "3B"), code("""
        import os
        chunk = b"\\0" * 2**20
        def fill(folder):
            written = 0
            try:
                for i in range(200):
                    with open(os.path.join(folder, f"fill-@@TOKEN:raw@@-{i}.bin"), "wb") as handle:
                        handle.write(chunk)
                    written += 1
            except OSError as exc:
                return f"{written}:{type(exc).__name__}"
            return f"{written}:no error"
        print("TMP_MB=" + fill("/tmp"))
        for name in os.listdir("/tmp"):
            if name.startswith("fill-"):  # (a grader installed under /tmp shows its folder here, read-only)
                os.remove(os.path.join("/tmp", name))
        print("CWD_MB=" + fill("."))
        for name in os.listdir("."):
            if name.startswith("fill-"):
                os.remove(name)
        big = 0
        try:
            with open("big-@@TOKEN:raw@@.bin", "wb") as handle:
                for _ in range(100):
                    handle.write(chunk)
                    handle.flush()
                    big += 1
        except OSError as exc:
            print(f"BIG_MB={big}:{type(exc).__name__}")
        else:
            print(f"BIG_MB={big}:no error")
        """, TOKEN=token), answers("3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # 12. Reading a classmate's hand-in, the reference, the rubric and the output folder by host path.
    targets = [str(honest_file), str(honest_file.parent), str(handins_dir), str(ROOT / "reference" / "rl.py"),
               str(ROOT / "reference"), str(ROOT / "rubrics" / f"{ASSIGNMENT}.toml"), str(ROOT / "submissions"),
               str(out), str(out / ".work"), str(out / ".work" / f"calls-{ASSIGNMENT}.json"),
               "/proc/1/root" + str(ROOT / "reference" / "rl.py"), "/proc/self/cwd/../" + str(honest_file),
               "/etc/passwd", "/etc/hostname", "/home", "/root/.gitconfig", "/root/.npmrc", "/root/.config",
               "/root/.pyenv/version", "/root/.cache"]  # (/root itself exists: it leads to the interpreter's folder)
    add("l_snoop_files", {"snoop.py": code("""
        import importlib, os
        stolen = []
        for path in @@TARGETS@@:
            try:
                if os.path.isdir(path):
                    stolen.append(f"{path}: {sorted(os.listdir(path))}")
                else:
                    with open(path, errors="replace") as handle:
                        stolen.append(f"{path}: {handle.read()}")
            except OSError as exc:
                print(f"{path}: {type(exc).__name__}")
        for module in ("reference", "reference.rl", "reference.bookkeeping"):
            try:
                importlib.import_module(module)
                stolen.append(f"imported {module}")
            except ImportError as exc:
                print(f"IMPORT_{module.upper().replace('.', '_')}=failed: {type(exc).__name__}")
        print("\\n".join(stolen))
        print(f"STOLEN={len(stolen)}")
        pledge = "\\n".join(stolen)[:9000]
        """, TARGETS=targets) + answers(*[p for p in POINTS if p != "5B"])}, ALL_BUT_PLEDGE)

    # 13. The network: TCP, UDP and an abstract unix socket this test listens on, and DNS.
    add("m_network", {"net.py": code("""
        import json, socket
        result = {}
        try:
            socket.create_connection(("127.0.0.1", @@TCP@@), timeout=2).sendall(b"hello")
            result["tcp"] = "connected"
        except OSError as exc:
            result["tcp"] = f"failed: {type(exc).__name__}"
        try:
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            probe.sendto(b"hello", ("127.0.0.1", @@UDP@@))
            result["udp"] = "sent"
        except OSError as exc:
            result["udp"] = f"failed: {type(exc).__name__}"
        try:
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            probe.settimeout(2)
            probe.connect("\\0" + @@UNIX@@)
            result["unix"] = "connected"
        except OSError as exc:
            result["unix"] = f"failed: {type(exc).__name__}"
        for host in ("example.com", "pypi.org", "localhost"):
            try:
                result["dns " + host] = str(socket.getaddrinfo(host, 443)[0][4])
            except OSError as exc:
                result["dns " + host] = f"failed: {type(exc).__name__}"
        print("NET=" + json.dumps(result))
        """, TCP=listeners.tcp_port, UDP=listeners.udp_port, UNIX=listeners.unix_name) + answers()}, FULL)

    # 14. Planting files on the host: in the hand-ins (a classmate's folder, a new "student"), in the
    # host's tmp, beside the working folder, in the output folder; and editing its own copy.
    plants = {
        "classmate": honest_file.parent / f"planted-{token}.py",
        "new student": handins_dir / f"planted-{token}.py",
        "overwrite classmate": honest_file,
        "host tmp": Path(f"/tmp/planted-{token}"),
        "test tmp": tmp / f"planted-{token}" / "inside.txt",
        "output": out / f"planted-{token}.html",
    }
    host_paths.update({f"plant {k}": v for k, v in plants.items() if k != "overwrite classmate"})
    host_paths.update({"plant parent of cwd": ROOT.parent / f"planted-{token}", "plant parent of worker cwd": out / f"planted-{token}"})
    add("n_plant", {"plant.py": code("""
        import json, os
        done = {}
        for what, path in @@PLANTS@@.items():
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as handle:
                    handle.write("planted\\n")
                done[what] = "written (inside the sandbox)"
            except OSError as exc:
                done[what] = f"failed: {type(exc).__name__}"
        for rel in ("../planted-@@TOKEN:raw@@", "../../planted-@@TOKEN:raw@@"):
            try:
                with open(rel, "w") as handle:
                    handle.write("planted\\n")
                done[rel] = "written"
            except OSError as exc:
                done[rel] = f"failed: {type(exc).__name__}"
        with open(__file__ if "__file__" in globals() else "plant.py", "a") as own:
            own.write("# edited in the sandbox\\n")
        print("PLANT=" + json.dumps(done))
        """, PLANTS={k: str(v) for k, v in plants.items()}, TOKEN=token) + answers()}, FULL)

    # 15. Modules named like the ones the grader uses, which raise when imported, beside an honest notebook.
    shadow = {f"{name}.py": f'raise RuntimeError("the shadow {name}.py was imported")\n'
              for name in ("json", "numpy", "base64", "copy", "traceback", "io", "signal", "codec", "child", "grader")}
    shadow["work.ipynb"] = notebook("import json, base64, numpy as np\nassert hasattr(np, 'ndarray') and json.dumps(1)\n",
                                    answers())
    add("o_shadow", shadow, FULL)

    # 16. Pickle payloads: objects whose unpickling would create a marker file on the host, sent as
    # values, inside an object array, from a function, and forged as .npy bytes on the result channel.
    marker = tmp / f"pickle-marker-{token}"
    host_paths["pickle marker"] = marker
    add("p_pickle", {"pickle.py": code("""
        import base64, gc, io, json, os, stat
        import numpy as np
        class Evil:
            def __reduce__(self):
                return (open, (@@MARKER@@, "w"))
        gamma_A = Evil()
        gamma_B = np.array([Evil(), 1.0], dtype=object)
        gamma_C_top = [Evil()]
        def discounted_return(rewards, gamma):
            return Evil()
        buffer = io.BytesIO()
        np.save(buffer, np.array([Evil()], dtype=object), allow_pickle=True)
        frame = json.dumps({"t": "values", "values": {"gamma_C_bottom": {"npy": base64.b64encode(buffer.getvalue()).decode()}},
                            "defined": [], "owners": {}}).encode()
        channels = [o.fd for o in gc.get_objects() if type(o).__name__ == "Channel" and type(getattr(o, "fd", None)) is int]
        def _is_pipe(fd):
            try:
                return stat.S_ISFIFO(os.fstat(fd).st_mode)
            except OSError:
                return False
        channel = channels[0] if channels else max(fd for fd in range(3, 64) if _is_pipe(fd))
        os.write(channel, b"%d\\n" % len(frame) + frame)
        print(f"FORGED_ON={channel}")
        """, MARKER=str(marker)) + answers("3A.i", "3A.ii", "5A", "5B") + 'policy_B_below = "left"\npolicy_B_above = "right"\n'},
        scores("3A.i", "3A.ii", "5A", "5B", **{"3B": 3.0}))

    # 17. The environment: os.environ, /proc/*/environ, and its own memory, for the grader's secrets.
    add("q_environ", {"env.ipynb": notebook(answers(*[p for p in POINTS if p != "5B"]), code("""
        import glob, os
        found = [repr(dict(os.environ))]
        for path in ["/proc/self/environ", "/proc/1/environ", *glob.glob("/proc/*/environ"), "/proc/1/cmdline"]:
            try:
                with open(path, "rb") as handle:
                    found.append(f"{path}: {handle.read().decode('latin-1')}")
            except OSError as exc:
                found.append(f"{path}: {type(exc).__name__}")
        print("\\n".join(found))
        pledge = "\\n".join(found)[:9000]
        """), MEMORY_SCAN + code("""
        found = memory_scan(("GRADER_TEST" + "_SECRET=").encode(), rb".{24}")
        print("\\n".join(found))
        pledge += "\\n".join(found)[:1000]
        """))}, ALL_BUT_PLEDGE)

    # HTML in a student's name, file name, output, error and answer.
    xss = f'<script>alert("XSS-{token}")</script>'
    add("r_xss <svg onload=alert(1)>", {"cell<img src=x onerror=alert(2)>.py": code("""
        print(@@XSS@@)
        pledge = @@XSS@@
        """, XSS=xss) + answers(*[p for p in POINTS if p != "5B"]) + f"raise ValueError({xss!r})\n"}, ALL_BUT_PLEDGE)

    # 8. A fork bomb, bounded at 200 forks; every child sleeps 20 s (long enough to be seen if it
    # escaped) and exits. Late in name order, so an escaped child would still be alive at the check.
    add("y_forkbomb", {"bomb.ipynb": notebook(answers("3A.i", "3A.ii", "3A.iii"), code("""
        import os, time
        forks, failures = 0, 0
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError:
                failures += 1
                continue
            if pid == 0:
                try:
                    time.sleep(20)
                finally:
                    os._exit(0)
            forks += 1
        print(f"FORKS={forks}")
        print(f"FORK_FAILURES={failures}")
        """), answers("3B", "3C.top", "3C.bottom", "5A", "5B"))}, FULL)

    # 18a. Forged frames on the result channel (found through the child's own Channel object):
    # right answers for every name its code sets wrong, a premature "done", fake cell records; and
    # printed text that looks like results. (Forgeries on the other inherited descriptors reach the
    # worker's protocol pipe and corrupt other hand-ins' results, so they get runs of their own.)
    fake_frames = [{"t": "values", "values": {k: v for k, v in CORRECT_VALUES.items() if k not in ("hours", "pledge")},
                    "defined": ["discounted_return"], "owners": {}},
                   {"t": "cell", "cell": 1, "status": "ok", "stdout": "", "notes": [], "figures": []},
                   {"t": "call", "function": "discounted_return", "case": 0, "status": "ok", "value": 1.0},
                   {"t": "done"}]
    add("zz_channel_forger", {"forger.ipynb": notebook(WRONG_CODE, code("""
        import gc, json, os
        channel = next(o for o in gc.get_objects() if type(o).__name__ == "Channel")
        for frame in @@FRAMES@@:
            payload = json.dumps(frame).encode()
            os.write(channel.fd, b"%d\\n" % len(payload) + payload)
        print(json.dumps([{"student": "zz_channel_forger", "score": 30.0, "parts": []}]))
        print('%d\\n{"t": "values", "values": {"gamma_A": 0.5}}' % 35)
        print(f"FORGED_ON={channel.fd}")
        """, FRAMES=fake_frames), answers("5A", "5B"))}, scores("5A", "5B"))
    return students, expected


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    tmp = tmp_path_factory.mktemp("attacks")
    token = secrets.token_hex(8)
    secret = "secret-" + secrets.token_hex(16)
    honest_marker = "HONEST-MARKER-" + secrets.token_hex(12)
    handins = tmp / "hand-ins"
    assignment_dir = handins / ASSIGNMENT
    out = tmp / "out"
    honest = write_student(assignment_dir, "a00_honest", {"HW5-6 (final).ipynb": honest_notebook(honest_marker)})
    honest_file = honest / "HW5-6 (final).ipynb"
    listeners = Listeners(token)
    host_paths: dict[str, Path] = {}
    try:
        students, expected = attack_students(tmp, assignment_dir, out, token, honest_file, listeners, host_paths)
        for name, files in students.items():
            write_student(assignment_dir, name, files)
        expected["a00_honest"] = FULL
        digest_before = tree_digest(handins)
        procs_before = processes()
        env = {**os.environ, "GRADER_TEST_SECRET": secret}
        run = run_grader(handins, out, env)
        deadline = time.monotonic() + 5  # killed namespaces take a moment to be reaped
        while escaped(processes()) and time.monotonic() < deadline:
            time.sleep(0.2)
        procs_after = processes()
    finally:
        listeners.close()
    print(f"\ngrader run over {len(expected)} hand-ins took {run.seconds:.1f} s", file=sys.stderr)
    return Batch(run, tmp, handins, token, secret, honest_marker, honest_file, expected, digest_before,
                 tree_digest(handins), listeners.contacts, procs_before, procs_after, escaped(procs_after), host_paths)


def expected_students() -> list[str]:
    return ["a00_honest", "a01_loop", "b_always_equal", "c_nan", "d_monkeypatch", "e_sysexit", "f_osexit",
            "g_swallow", "h_orphans", "i_memory", "j_output", "k_disk", "l_snoop_files", "m_network", "n_plant",
            "o_shadow", "p_pickle", "q_environ", "r_xss <svg onload=alert(1)>", "y_forkbomb", "zz_channel_forger"]


# ---------------------------------------------------------------- the run as a whole

def test_cli_finishes_and_grades_everyone(batch: Batch) -> None:
    run = batch.run
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(run.results) == set(batch.expected), run.stderr[-3000:]
    assert set(run.pages) == set(batch.expected)
    for result in run.results.values():
        assert result["assignment"] == ASSIGNMENT and result["max_score"] == 65.0
        assert {p["id"] for p in result["parts"]} >= set(POINTS)


def test_honest_student_gets_full_marks(batch: Batch) -> None:
    assert batch.run.auto_scores("a00_honest") == FULL
    assert all(batch.run.part("a00_honest", p)["status"] == "correct" for p in POINTS)


@pytest.mark.parametrize("student", expected_students())
def test_each_hand_in_gets_exactly_what_it_earned(batch: Batch, student: str) -> None:
    """Honest parts score despite the attack around them; attacked parts earn nothing."""
    assert batch.run.auto_scores(student) == batch.expected[student], json.dumps(batch.run.results[student], indent=1)[:4000]


# ---------------------------------------------------------------- 1-3, 16: values the grader must not be fooled by

def test_always_equal_objects_are_unreadable(batch: Batch) -> None:
    run = batch.run
    for part in ("3A.i", "3A.ii", "3A.iii", "3B"):
        assert "could not read" in run.part("b_always_equal", part)["message"], part
    assert run.part("b_always_equal", "3A.iii")["status"] in ("incorrect", "error")


def test_nan_and_infinity_earn_nothing(batch: Batch) -> None:
    run = batch.run
    for part in ("3A.iii", "3C.top", "3C.bottom"):
        assert run.part("c_nan", part)["score"] == 0 and "NaN" in run.part("c_nan", part)["message"], part
    assert "infinite" in run.part("c_nan", "3B")["message"]


def test_patched_comparisons_in_the_sandbox_change_nothing(batch: Batch) -> None:
    run = batch.run
    assert run.auto_scores("d_monkeypatch") == scores("5A", "5B")
    assert "Expected 'right', got 'stay'" in run.part("d_monkeypatch", "3A.i")["message"]


def test_pickle_payloads_are_never_unpickled(batch: Batch) -> None:
    run = batch.run
    assert not batch.host_paths["pickle marker"].exists()
    assert "could not read" in run.part("p_pickle", "3A.iii")["message"]
    assert "could not read" in run.part("p_pickle", "3C.top")["message"]
    assert run.marker("p_pickle", "FORGED_ON").isdigit()  # the forged .npy really went onto the channel
    assert "malformed" in run.text("p_pickle")  # and was refused
    assert run.part("p_pickle", "3C.bottom")["score"] == 0


# ---------------------------------------------------------------- 4-6: ending or stalling the process

def test_exits_in_a_middle_cell_do_not_stop_later_cells(batch: Batch) -> None:
    run = batch.run
    assert "SystemExit" in run.text("e_sysexit") and "KeyboardInterrupt" in run.text("e_sysexit")
    assert "ended the whole Python process" in run.text("f_osexit")


def test_loops_are_interrupted_or_killed(batch: Batch) -> None:
    run = batch.run
    assert "timeout" in run.text("a01_loop")
    assert "did not stop when interrupted" in run.text("g_swallow")


# ---------------------------------------------------------------- 7-8: processes

def test_no_sandbox_process_outlives_the_run(batch: Batch) -> None:
    assert batch.run.marker("h_orphans", "DAEMON").isdigit()  # the daemon really started
    assert batch.escaped_after == [], batch.escaped_after
    new = [p for p in batch.procs_after.values() if p.pid not in batch.procs_before and p.cmdline == ("sleep", "30")]
    assert new == [], new


def test_fork_bomb_is_bounded_and_cleaned_up(batch: Batch) -> None:
    run = batch.run
    forks = int(run.marker("y_forkbomb", "FORKS"))
    assert 0 < forks < POLICY.max_processes, forks  # the process limit stopped it
    assert int(run.marker("y_forkbomb", "FORK_FAILURES")) == 200 - forks
    assert not [p for p in batch.escaped_after if p.uid in SANDBOX_UIDS]
    assert len(batch.procs_after) <= len(batch.procs_before) + 100  # not 200 leftover children


# ---------------------------------------------------------------- 9-11: memory, output, disk

def test_memory_bomb_hits_the_limit(batch: Batch) -> None:
    run = batch.run
    assert "memory limit" in run.text("i_memory")
    assert int(run.marker("i_memory", "ALLOCATED_MB")) <= MEMORY_MB + 100


def test_huge_output_keeps_reports_small(batch: Batch) -> None:
    run = batch.run
    assert len(run.pages["j_output"].encode()) < REPORT_LIMIT
    for path in run.public_files():
        assert path.stat().st_size < REPORT_LIMIT, path
    assert run.text("j_output").count("x" * 1000) <= 20  # at most ~20,000 characters of it are kept


def test_disk_filling_is_bounded_and_stays_in_the_sandbox(batch: Batch) -> None:
    run = batch.run
    for name in ("TMP_MB", "CWD_MB", "BIG_MB"):
        written, error = run.marker("k_disk", name).split(":", 1)
        assert int(written) <= max(POLICY.disk_mb, POLICY.max_file_mb) + 2 and error != "no error", (name, written, error)
    leftovers = [p for p in [*Path("/tmp").glob(f"*{batch.token}*"), *ROOT.glob(f"*{batch.token}*"),
                             *batch.tmp.rglob(f"fill-{batch.token}*"), *batch.tmp.rglob(f"big-{batch.token}*")]]
    assert leftovers == []


# ---------------------------------------------------------------- 12, 17: reading what is not theirs

def test_classmates_reference_and_rubric_cannot_be_read(batch: Batch) -> None:
    run = batch.run
    assert run.marker("l_snoop_files", "STOLEN") == "0", run.text("l_snoop_files")[:3000]
    for module in ("REFERENCE", "REFERENCE_RL", "REFERENCE_BOOKKEEPING"):
        assert run.marker("l_snoop_files", f"IMPORT_{module}").startswith("failed")
    texts = {path: path.read_text(errors="replace") for path in run.public_files()}
    for path in sorted((run.out / ".cache").glob("*.json")):
        if json.loads(path.read_text())["student"] != "a00_honest":  # the honest hand-in's own cache holds its code
            texts[path] = path.read_text(errors="replace")
    for path, text in texts.items():
        assert batch.honest_marker not in text, path
        for snippet in (*REFERENCE_SNIPPETS, *RUBRIC_SNIPPETS):
            assert snippet not in text, (path, snippet)


def test_hole_next_hand_in_cannot_copy_the_previous_answers(batch: Batch) -> None:
    run = batch.run
    assert run.marker("a02_copycat", "COPIED") == ""
    assert run.auto_scores("a02_copycat") == scores("5A", "5B")


def test_no_leak_of_the_previous_hand_in_code_through_memory(batch: Batch) -> None:
    assert batch.run.marker("a02_copycat", "MEMLEAK") == "[]"


def test_grader_environment_never_reaches_students(batch: Batch) -> None:
    run = batch.run
    assert "/proc/self/environ: " in run.text("q_environ")  # the snooping really ran
    for path in run.files():
        assert batch.secret.encode() not in path.read_bytes(), path
    assert batch.secret not in run.stdout + run.stderr


# ---------------------------------------------------------------- 13-15: network, planted files, shadowed modules

def test_no_network(batch: Batch) -> None:
    result = json.loads(batch.run.marker("m_network", "NET"))
    assert set(result) == {"tcp", "udp", "unix", "dns example.com", "dns pypi.org", "dns localhost"}
    for what, outcome in result.items():
        if what != "dns localhost":
            assert outcome.startswith("failed"), (what, outcome)
    assert batch.contacts == []


def test_nothing_is_planted_on_the_host(batch: Batch) -> None:
    planted = json.loads(batch.run.marker("n_plant", "PLANT"))
    assert planted["host tmp"].startswith("written")  # it did write, but into its own /tmp
    for rel in ("../planted-", "../../planted-"):
        assert planted[rel + batch.token].startswith("failed")
    for what, path in batch.host_paths.items():
        if what.startswith("plant"):
            assert not path.exists(), (what, path)
    assert batch.digest_after == batch.digest_before
    assert not [s for s in batch.run.results if "planted" in s]


def test_shadow_modules_in_a_hand_in_change_nothing(batch: Batch) -> None:
    assert batch.run.auto_scores("o_shadow") == FULL
    assert "the shadow json.py was imported" in batch.run.text("o_shadow")  # run as the student's own file, nothing more


# ---------------------------------------------------------------- 18 and the reports

def test_frames_forged_on_the_result_channel_earn_nothing(batch: Batch) -> None:
    run = batch.run
    assert run.marker("zz_channel_forger", "FORGED_ON").isdigit()
    assert run.auto_scores("zz_channel_forger") == scores("5A", "5B")


def test_student_html_is_escaped_everywhere(batch: Batch) -> None:
    student = "r_xss <svg onload=alert(1)>"
    assert batch.run.results[student]["student"] == student
    for path in batch.run.files():
        if path.suffix == ".html":
            raw = path.read_text()
            assert f'<script>alert("XSS-{batch.token}")' not in raw, path
            assert "<svg onload=alert(1)>" not in raw and "<img src=x onerror=alert(2)>" not in raw, path
    assert f'alert("XSS-{batch.token}")' in batch.run.text(student)  # shown, as text


# ---------------------------------------------------------------- attacks that need a run of their own

def small_run(tmp: Path, students: dict[str, dict[str, str]], honest: str = "a_honest") -> tuple[Run, Path]:
    """One worker, hand-ins graded in name order: an honest one (named `honest`) and `students`."""
    assignment_dir = tmp / "hand-ins" / ASSIGNMENT
    write_student(assignment_dir, honest, {"honest.py": answers()})
    for name, files in students.items():
        write_student(assignment_dir, name, files)
    return run_grader(tmp / "hand-ins", tmp / "out", dict(os.environ), jobs=1), assignment_dir


def test_non_string_answers_for_predicates_do_not_crash_the_run(tmp_path: Path) -> None:
    """check_pledge / check_hours get whatever plain value a student left (this once killed the whole run)."""
    run, _ = small_run(tmp_path, {"b_int_pledge": {"p.py": answers("5A") + "pledge = 42\n"},
                                  "c_list_pledge": {"p.py": answers("5A") + f"pledge = [{PLEDGE!r}]\n"},
                                  "d_odd_hours": {"p.py": answers("5B") + "hours = [[1.5, None], {}]\n"}})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.auto_scores("a_honest") == FULL
    assert run.auto_scores("b_int_pledge") == scores("5A")
    assert run.auto_scores("c_list_pledge") == scores("5A")
    assert run.auto_scores("d_odd_hours")["5B"] == 2.5


def test_hole_forged_protocol_lines_change_no_grade(tmp_path: Path) -> None:
    """A hand-in writes, to every descriptor 3..20, an answer line with every answer right for itself and one with
    every answer wrong for whoever the same worker grades next."""
    mine = {"id": "a_forger#0", "killed": "", "exit": 0,
            "frames": [{"t": "values", "values": CORRECT_VALUES, "defined": [], "owners": {}}, {"t": "done"}]}
    theirs = {"id": "b_honest#0", "killed": "", "exit": 0,
              "frames": [{"t": "values", "values": {"hours": "none"}, "defined": [], "owners": {}}, {"t": "done"}]}
    run, _ = small_run(tmp_path, {"a_forger": {"forger.ipynb": notebook(WRONG_CODE, code("""
        import json, os
        lines = (json.dumps(@@MINE@@) + "\\n" + json.dumps(@@THEIRS@@) + "\\n").encode()
        for fd in range(3, 21):
            try:
                os.write(fd, lines)
            except OSError:
                pass
        """, MINE=mine, THEIRS=theirs), answers("5A", "5B"))}}, honest="b_honest")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.auto_scores("b_honest") == FULL, run.auto_scores("b_honest")
    assert run.auto_scores("a_forger") == scores("5A", "5B"), run.auto_scores("a_forger")


def test_hole_framed_output_on_inherited_fds_does_not_crash_the_run(tmp_path: Path) -> None:
    frame = json.dumps({"t": "values", "values": CORRECT_VALUES, "defined": [], "owners": {}})
    run, _ = small_run(tmp_path, {"b_framer": {"framer.ipynb": notebook(WRONG_CODE, code("""
        import os
        frame = @@FRAME@@.encode()
        for fd in range(3, 21):
            try:
                os.write(fd, b"%d\\n" % len(frame) + frame)
            except OSError:
                pass
        """, FRAME=frame), answers("5A", "5B"))}})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.auto_scores("a_honest") == FULL
    assert run.auto_scores("b_framer") == scores("5A", "5B")


def test_hole_symlinks_in_a_hand_in_do_not_leak_files(tmp_path: Path) -> None:
    marker = "HONEST-MARKER-" + secrets.token_hex(12)
    assignment_dir = tmp_path / "hand-ins" / ASSIGNMENT
    victim = write_student(assignment_dir, "a_victim", {"victim.py": f"# {marker}\n" + answers()}) / "victim.py"
    thief = write_student(assignment_dir, "b_thief", {"thief.py": code("""
        import os
        stolen = []
        for name in sorted(os.listdir(".")):
            if name.endswith(".txt"):
                with open(name, errors="replace") as handle:
                    stolen.append(handle.read())
        print("\\n".join(stolen))
        """)})
    (thief / "notes.txt").symlink_to(victim)
    (thief / "reference.txt").symlink_to(ROOT / "reference" / "rl.py")
    (thief / "rubric.txt").symlink_to(ROOT / "rubrics" / f"{ASSIGNMENT}.toml")
    before = tree_digest(tmp_path / "hand-ins")
    run = run_grader(tmp_path / "hand-ins", tmp_path / "out", dict(os.environ), jobs=1)
    assert run.returncode == 0, run.stderr[-2000:]
    assert tree_digest(tmp_path / "hand-ins") == before
    assert run.auto_scores("a_victim") == FULL
    for path in run.public_files():
        text = path.read_text(errors="replace")
        assert marker not in text, path
        for snippet in (*REFERENCE_SNIPPETS, *RUBRIC_SNIPPETS):
            assert snippet not in text, (path, snippet)
