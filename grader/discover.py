"""Finding submissions: `<assignment-id>/<student>/...` folders or flat `<assignment-id>/<student>.<ext>` files.

Code (`.ipynb`, `.py`) is run; a write-up (`.md`, `.markdown`, `.txt`, `.tex`, and the Markdown
cells of notebooks) is read for its answers. Flat files of one student (`alice.py`, `alice.md`)
are one hand-in.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

RUNNABLE = (".ipynb", ".py")
WRITEUP = (".md", ".markdown", ".txt", ".tex")
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    assignment: str
    student: str
    root: Path  # the student's folder, or the flat file itself
    files: tuple[Path, ...]  # what is run, in order
    notes: tuple[str, ...] = field(default=())  # things the student should know (skipped files, ...)
    writeups: tuple[Path, ...] = ()  # what is read as the write-up, in order (besides the notebooks' Markdown)

    @functools.cached_property
    def folder(self) -> Path:
        return self.root if self.root.is_dir() else self.root.parent

    def data_files(self) -> list[Path]:
        """Files copied beside the code (a student's own data), never other students' files."""
        return list(self._data_files)

    @functools.cached_property
    def _data_files(self) -> tuple[Path, ...]:
        """Listed once: the cache key, the run and the write-up all ask (a walk and a stat a file each)."""
        if not self.root.is_dir():
            return self.files + self.writeups
        return tuple(p for p in _regular_files(self.root) if p.stat().st_size <= MAX_FILE_BYTES)


class DiscoveryError(ValueError):
    pass


def natural_key(name: str) -> list[object]:
    """Order names as a person would: 'part 2' before 'part 10', case ignored."""
    return [int(tok) if tok.isascii() and tok.isdigit() else tok for tok in re.split(r"([0-9]+)", name.casefold())]


def _regular_files(folder: Path) -> list[Path]:
    """Plain files under `folder`, links not followed: a link could point at a classmate's work."""
    found = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in ("__pycache__", ".ipynb_checkpoints")]
        found.extend(Path(directory, n) for n in names if not n.startswith("."))
    return sorted(p for p in found if not p.is_symlink() and p.is_file())


def _links(folder: Path) -> list[Path]:
    found = []
    for directory, subdirs, names in os.walk(folder):
        found.extend(Path(directory, n) for n in [*subdirs, *names] if Path(directory, n).is_symlink())
    return sorted(found)


def _student_folder(assignment: str, folder: Path) -> Submission:
    files: list[Path] = []
    notes: list[str] = []
    writeups: list[Path] = []
    for link in _links(folder):
        notes.append(f"{link.relative_to(folder)} is a link and was left out; hand in the file itself")
    for path in sorted(_regular_files(folder), key=lambda p: natural_key(str(p.relative_to(folder)))):
        name = path.relative_to(folder)
        if path.stat().st_size > MAX_FILE_BYTES:
            notes.append(f"{name} was left out: it is larger than {MAX_FILE_BYTES // 2**20} MB")
        elif path.suffix.lower() in WRITEUP:
            writeups.append(path)
        elif path.suffix.lower() not in RUNNABLE:
            notes.append(f"{name} was copied beside your code but not run (only .ipynb and .py files are run)")
        else:
            files.append(path)
    if not files and not writeups:
        notes.append("no .ipynb or .py file, and no write-up (.md, .txt, .tex), was found in this hand-in")
    return Submission(assignment, folder.name, folder, tuple(files), tuple(notes), tuple(writeups))


def _flat_files(assignment: str, paths: list[Path]) -> Submission:
    """One student's flat files (`alice.py`, `alice.md`): one hand-in."""
    notes = [f"{p.name} was left out: it is larger than {MAX_FILE_BYTES // 2**20} MB"
             for p in paths if p.stat().st_size > MAX_FILE_BYTES]
    kept = [p for p in paths if p.stat().st_size <= MAX_FILE_BYTES]
    files = tuple(p for p in kept if p.suffix.lower() in RUNNABLE)
    writeups = tuple(p for p in kept if p.suffix.lower() in WRITEUP)
    return Submission(assignment, paths[0].stem, paths[0], files, tuple(notes), writeups)


def assignment_submissions(assignment: str, folder: Path) -> list[Submission]:
    found: list[Submission] = []
    flat: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found.append(_student_folder(assignment, entry))
        elif entry.stem.lower() == "readme":
            continue  # the course's own notes beside the hand-ins
        elif entry.is_file() and not entry.is_symlink() and entry.suffix.lower() in RUNNABLE + WRITEUP:
            flat.setdefault(entry.stem, []).append(entry)
    found += [_flat_files(assignment, paths) for paths in flat.values()]
    return sorted(found, key=lambda s: natural_key(s.student))


def discover(path: Path, assignments: set[str]) -> tuple[list[Submission], list[str]]:
    """All submissions under `path` for the known assignments, and warnings about what was skipped.

    `path` is either one assignment folder (named by its id) or a folder of assignment folders.
    """
    if not path.exists():
        raise DiscoveryError(f"{path}: no such file or folder")
    if not path.is_dir():
        raise DiscoveryError(f"{path}: expected a folder of hand-ins, e.g. submissions/ or submissions/<assignment-id>/")
    if path.resolve().name in assignments:
        return assignment_submissions(path.resolve().name, path), []
    found: list[Submission] = []
    warnings: list[str] = []
    for entry in sorted(path.iterdir(), key=lambda p: natural_key(p.name)):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        if entry.name in assignments:
            found.extend(assignment_submissions(entry.name, entry))
        else:
            warnings.append(f"skipped {entry}: no rubric for an assignment called {entry.name!r}")
    if not found and not any(e.name in assignments for e in path.iterdir()):
        raise DiscoveryError(
            f"{path}: found no assignment folder; expected subfolders named by assignment id ({', '.join(sorted(assignments))})"
        )
    return found, warnings
