"""What runs inside the sandboxed child: the student's cells, then reading values and calling functions.

Everything here runs in the untrusted process after the sandbox is entered. It reports what it
saw as framed JSON messages on a pipe; it never decides whether anything is right.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import linecache
import os
import signal
import sys
import traceback
from typing import Any, Callable

from grader.codec import encode_value

MAX_OUTPUT = 20_000  # characters of printed output kept per cell
MAX_FIGURES = 8  # per cell
MAX_FIGURE_BYTES = 2 * 2**20


class Timeout(BaseException):
    """Raised in the student's code when a cell or call runs past its limit (BaseException so that
    `except Exception` in student code does not swallow it)."""


class Channel:
    """Length-prefixed JSON frames on a pipe, so nothing a student prints can look like a result."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        data = b"%d\n" % len(payload) + payload
        while data:
            data = data[os.write(self.fd, data):]


class CappedText(io.TextIOBase):
    """A stdout that keeps the first MAX_OUTPUT characters and counts the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = MAX_OUTPUT - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self) -> str:
        text = "".join(self.parts)
        return text + (f"\n… {self.dropped} more characters not shown" if self.dropped else "")


class IPythonShim:
    """The `get_ipython()` that transformed magics call; decides what each one does here."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.notes: list[str] = []
        self.user_ns = namespace

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> Any:
        if name in ("time", "timeit", "prun"):
            exec(compile(line, "<magic>", "exec"), self.namespace)
        elif name not in ("matplotlib", "config", "load_ext", "autoreload", "pylab", "precision"):
            self.notes.append(f"%{name} is not supported by the grader and was ignored")
        return None

    def run_cell_magic(self, name: str, line: str, cell: str) -> Any:
        if name in ("time", "timeit", "capture", "prun"):
            exec(compile(cell, "<magic>", "exec"), self.namespace)
        elif name == "writefile":
            mode = "a" if line.split()[:1] == ["-a"] else "w"
            with open(line.split()[-1], mode, encoding="utf-8") as handle:
                handle.write(cell)
        else:
            self.notes.append(f"%%{name} is not supported by the grader; the cell was not run")
        return None

    def system(self, command: str) -> None:
        self.notes.append(f"the shell command `!{command}` was not run by the grader")

    def getoutput(self, command: str, split: bool = True) -> list[str]:
        self.system(command)
        return []

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"get_ipython().{name} is not available when grading")


def _on_alarm(signum: int, frame: Any) -> None:
    signal.setitimer(signal.ITIMER_REAL, 0.5)  # keep raising if the student's code swallows it
    raise Timeout()


def _with_timeout(seconds: float, action: Callable[[], Any]) -> Any:
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return action()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _error(exc: BaseException, student_files: set[str]) -> dict[str, str]:
    """The exception with its traceback trimmed to the student's own frames."""
    summary = traceback.TracebackException.from_exception(exc, limit=50)
    summary.stack = traceback.StackSummary.from_list([f for f in summary.stack if f.filename in student_files])
    summary.__cause__ = summary.__context__ = None
    text = "".join(summary.format())
    if len(text) > 8000:
        text = text[:4000] + "\n… (traceback cut) …\n" + text[-4000:]
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": text}


def _figures() -> list[str]:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    pngs = []
    for number in pyplot.get_fignums()[:MAX_FIGURES]:
        buffer = io.BytesIO()
        try:
            pyplot.figure(number).savefig(buffer, format="png", dpi=72)
        except Exception:  # a figure the student broke is not worth failing the cell for
            continue
        if buffer.tell() <= MAX_FIGURE_BYTES:
            pngs.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    pyplot.close("all")
    return pngs


def _track(owners: dict[str, list[str]], seen: dict[str, int], names: list[str], namespace: dict[str, Any], file: str) -> None:
    """Which files assign each contract name, so two files defining the same answer can be reported."""
    for name in names:
        if name in namespace and id(namespace[name]) != seen.get(name):
            seen[name] = id(namespace[name])
            if file not in owners.setdefault(name, []):
                owners[name].append(file)


def run_cells(channel: Channel, job: dict[str, Any], namespace: dict[str, Any], shim: IPythonShim) -> tuple[set[str], dict[str, list[str]]]:
    student_files: set[str] = set()
    owners: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    names = [*job["values"], *job["functions"]]
    skip = set(job.get("skip", []))
    for index, cell in enumerate(job["cells"]):
        filename = f"<{cell['label']}>"
        student_files.add(filename)
        linecache.cache[filename] = (len(cell["code"]), None, cell["code"].splitlines(True), filename)
        record: dict[str, Any] = {"t": "cell", "cell": index, "status": "ok"}
        if index in skip:
            record["status"] = "skipped"
            channel.send(record)
            continue
        channel.send({"t": "start", "cell": index})
        out = CappedText()
        sys.stdout = sys.stderr = out
        shim.notes = []
        try:
            code = compile(cell["code"], filename, "exec")
            _with_timeout(job["limits"]["cell_timeout"], lambda: exec(code, namespace))
        except Timeout:
            record.update(status="timeout")
        except MemoryError:
            limit = job["limits"].get("memory_mb")
            record.update(status="error", error={"type": "MemoryError", "traceback": "",
                                                 "message": f"the memory limit of {limit} MB was reached in this cell"})
        except BaseException as exc:  # the student's exception, SystemExit included, is a result to report
            record.update(status="error", error=_error(exc, student_files))
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        record.update(stdout=out.value(), notes=shim.notes, figures=_figures())
        channel.send(record)
        _track(owners, seen, names, namespace, cell["file"])
    return student_files, owners


def read_values(channel: Channel, job: dict[str, Any], namespace: dict[str, Any], owners: dict[str, list[str]]) -> None:
    values = {}
    for name in job["values"]:
        if name not in namespace:
            values[name] = {"missing": True}
            continue
        try:
            values[name] = encode_value(namespace[name])
        except Exception as exc:  # a hostile object may raise anywhere; report it, keep going
            values[name] = {"unreadable": f"reading it raised {type(exc).__name__}"}
    defined = sorted(n for n in job["functions"] if callable(namespace.get(n)))
    channel.send({"t": "values", "values": values, "defined": defined,
                  "owners": {name: files for name, files in owners.items() if len(files) > 1}})


def call_functions(channel: Channel, job: dict[str, Any], namespace: dict[str, Any],
                   calls: dict[str, Any], student_files: set[str]) -> None:
    for name in job["functions"]:
        function = namespace.get(name)
        if not callable(function):
            continue
        cases = calls.get(name, [])
        if callable(cases):  # inputs holding torch objects, decoded only now that they are needed
            cases = cases()
        for case, kwargs in enumerate(cases):
            message: dict[str, Any] = {"t": "call", "function": name, "case": case}
            out = CappedText()
            sys.stdout = sys.stderr = out
            try:
                args = copy.deepcopy(kwargs)  # a student mutating an input changes nothing for the next case
                result = _with_timeout(job["limits"]["call_timeout"], lambda: function(**args))
                message.update(status="ok", value=encode_value(result))
            except Timeout:
                message.update(status="timeout")
            except BaseException as exc:  # noqa: BLE001 - the student's exception is the result
                message.update(status="error", error=_error(exc, student_files))
            finally:
                sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            channel.send(message)


def run_job(channel: Channel, job: dict[str, Any], calls: dict[str, Any]) -> None:
    """Run a whole submission in this (already sandboxed) process."""
    signal.signal(signal.SIGALRM, _on_alarm)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    shim = IPythonShim(namespace)
    namespace["get_ipython"] = lambda: shim
    student_files, owners = run_cells(channel, job, namespace, shim)
    read_values(channel, job, namespace, owners)
    call_functions(channel, job, namespace, calls, student_files)
    channel.send({"t": "done"})
