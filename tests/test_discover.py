"""Finding hand-ins: nested and flat layouts, natural order, odd names, what is skipped and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import discover as discover_module
from grader.discover import DiscoveryError, discover, natural_key

ASSIGNMENTS = {"hw-a", "hw-b"}


def touch(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def by_student(submissions: list) -> dict[str, object]:
    return {s.student: s for s in submissions}


def test_nested_layout_finds_each_student_folder(tmp_path: Path) -> None:
    alice = touch(tmp_path / "hw-a" / "alice" / "main.ipynb", "{}")
    bob = touch(tmp_path / "hw-a" / "bob" / "solution.py")
    found, warnings = discover(tmp_path, ASSIGNMENTS)
    assert warnings == []
    assert [(s.assignment, s.student) for s in found] == [("hw-a", "alice"), ("hw-a", "bob")]
    subs = by_student(found)
    assert subs["alice"].files == (alice,) and subs["alice"].root == tmp_path / "hw-a" / "alice"
    assert subs["bob"].files == (bob,)
    assert subs["alice"].notes == ()
    assert subs["alice"].folder == tmp_path / "hw-a" / "alice"


def test_flat_layout_makes_one_submission_per_file(tmp_path: Path) -> None:
    carol = touch(tmp_path / "hw-b" / "carol.ipynb", "{}")
    dave = touch(tmp_path / "hw-b" / "dave.py")
    touch(tmp_path / "hw-b" / "README.txt", "not a hand-in")
    found, _ = discover(tmp_path, ASSIGNMENTS)
    assert [(s.assignment, s.student) for s in found] == [("hw-b", "carol"), ("hw-b", "dave")]
    subs = by_student(found)
    assert subs["carol"].root == carol and subs["carol"].files == (carol,)
    assert subs["dave"].files == (dave,)
    assert subs["dave"].folder == tmp_path / "hw-b"
    assert subs["dave"].data_files() == [dave]  # never the other students' files


def test_both_assignments_and_both_layouts_together(tmp_path: Path) -> None:
    touch(tmp_path / "hw-a" / "zed" / "a.py")
    touch(tmp_path / "hw-a" / "amy.py")
    touch(tmp_path / "hw-b" / "bo" / "b.ipynb", "{}")
    found, warnings = discover(tmp_path, ASSIGNMENTS)
    assert warnings == []
    assert [(s.assignment, s.student) for s in found] == [("hw-a", "amy"), ("hw-a", "zed"), ("hw-b", "bo")]


def test_one_assignment_folder_given_directly(tmp_path: Path) -> None:
    touch(tmp_path / "hw-a" / "alice" / "main.py")
    touch(tmp_path / "hw-a" / "bob.py")
    found, warnings = discover(tmp_path / "hw-a", ASSIGNMENTS)
    assert warnings == []
    assert [(s.assignment, s.student) for s in found] == [("hw-a", "alice"), ("hw-a", "bob")]


def test_one_assignment_folder_given_with_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "hw-a" / "alice" / "main.py")
    monkeypatch.chdir(tmp_path / "hw-a")
    found, _ = discover(Path("."), ASSIGNMENTS)
    assert [(s.assignment, s.student) for s in found] == [("hw-a", "alice")]


def test_unknown_folder_is_skipped_with_a_warning(tmp_path: Path) -> None:
    touch(tmp_path / "hw-a" / "alice" / "main.py")
    touch(tmp_path / "old-hw" / "bob" / "main.py")
    found, warnings = discover(tmp_path, ASSIGNMENTS)
    assert [s.student for s in found] == ["alice"]
    assert len(warnings) == 1 and "old-hw" in warnings[0]


def test_folder_with_no_assignment_folder_is_an_error(tmp_path: Path) -> None:
    touch(tmp_path / "old-hw" / "bob" / "main.py")
    with pytest.raises(DiscoveryError) as info:
        discover(tmp_path, ASSIGNMENTS)
    assert str(tmp_path) in str(info.value)


def test_missing_path_is_a_discovery_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DiscoveryError) as info:
        discover(missing, ASSIGNMENTS)
    assert str(missing) in str(info.value)


def test_a_file_instead_of_a_folder_is_a_discovery_error(tmp_path: Path) -> None:
    single = touch(tmp_path / "alice.py")
    with pytest.raises(DiscoveryError):
        discover(single, ASSIGNMENTS)


def test_natural_key_orders_numbers_by_value_and_ignores_case() -> None:
    names = ["part 10", "Part 1", "part 2", "part 1b", "appendix"]
    assert sorted(names, key=natural_key) == ["appendix", "Part 1", "part 1b", "part 2", "part 10"]


def test_students_and_files_come_in_natural_order(tmp_path: Path) -> None:
    for student in ("student 10", "student 2", "Student 1"):
        touch(tmp_path / "hw-a" / student / "main.py")
    folder = tmp_path / "hw-a" / "student 2"
    for name in ("part 10.py", "part 2.py", "Part 1.ipynb"):
        touch(folder / name)
    found, _ = discover(tmp_path, ASSIGNMENTS)
    assert [s.student for s in found] == ["Student 1", "student 2", "student 10"]
    files = by_student(found)["student 2"].files
    assert [f.name for f in files] == ["main.py", "Part 1.ipynb", "part 2.py", "part 10.py"]


def test_odd_file_names_are_found_and_kept_as_written(tmp_path: Path) -> None:
    nested = touch(tmp_path / "hw-a" / "Jane Doe (late)" / "HW3 Final (1).IPYNB", "{}")
    flat = touch(tmp_path / "hw-a" / "O'Brien, Pat (v2).PY")
    found, _ = discover(tmp_path, ASSIGNMENTS)
    subs = by_student(found)
    assert set(subs) == {"Jane Doe (late)", "O'Brien, Pat (v2)"}
    assert subs["Jane Doe (late)"].files == (nested,)
    assert subs["O'Brien, Pat (v2)"].files == (flat,)


def test_superscript_digit_in_a_student_folder_name_does_not_stop_discovery(tmp_path: Path) -> None:
    touch(tmp_path / "hw-a" / "Group 2²" / "main.py")  # a folder name ending in a digit then a superscript
    touch(tmp_path / "hw-a" / "Group 10" / "main.py")
    found, _ = discover(tmp_path, ASSIGNMENTS)
    assert sorted(s.student for s in found) == ["Group 10", "Group 2²"]


def test_empty_student_folder_gets_a_note(tmp_path: Path) -> None:
    (tmp_path / "hw-a" / "alice").mkdir(parents=True)
    found, _ = discover(tmp_path, ASSIGNMENTS)
    (alice,) = found
    assert alice.files == ()
    assert len(alice.notes) == 1 and ".ipynb" in alice.notes[0] and ".py" in alice.notes[0]


def test_folder_with_only_data_gets_a_note_and_keeps_its_data(tmp_path: Path) -> None:
    data = touch(tmp_path / "hw-a" / "alice" / "data.csv", "1,2\n")
    found, _ = discover(tmp_path, ASSIGNMENTS)
    (alice,) = found
    assert alice.files == () and alice.notes
    assert alice.data_files() == [data]


def test_hidden_and_checkpoint_folders_are_ignored(tmp_path: Path) -> None:
    student = tmp_path / "hw-a" / "alice"
    main = touch(student / "main.ipynb", "{}")
    helper = touch(student / "lib" / "helper.py")
    touch(student / ".ipynb_checkpoints" / "main-checkpoint.ipynb", "{}")
    touch(student / "lib" / ".ipynb_checkpoints" / "helper-checkpoint.py")
    touch(student / ".hidden" / "secret.py")
    touch(student / ".scratch.py")
    touch(student / "__pycache__" / "main.cpython-311.py")
    touch(tmp_path / "hw-a" / ".git" / "config.py")  # not a student
    touch(tmp_path / "hw-a" / ".bob.py")  # a hidden flat file is not a hand-in
    found, _ = discover(tmp_path, ASSIGNMENTS)
    assert [s.student for s in found] == ["alice"]
    (alice,) = found
    assert alice.files == (helper, main)  # 'lib/helper.py' sorts before 'main.ipynb'
    assert all(".ipynb_checkpoints" not in p.parts and not p.name.startswith(".") for p in alice.data_files())
    assert set(alice.data_files()) == {main, helper}


def test_hidden_top_level_folders_give_no_warning(tmp_path: Path) -> None:
    touch(tmp_path / "hw-a" / "alice" / "main.py")
    touch(tmp_path / ".ipynb_checkpoints" / "x.py")
    touch(tmp_path / ".cache" / "y.py")
    found, warnings = discover(tmp_path, ASSIGNMENTS)
    assert [s.student for s in found] == ["alice"]
    assert warnings == []


def test_too_large_files_are_skipped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover_module, "MAX_FILE_BYTES", 100)
    small = touch(tmp_path / "hw-a" / "alice" / "small.py", "x = 1\n")
    touch(tmp_path / "hw-a" / "alice" / "huge.ipynb", "#" * 101)
    touch(tmp_path / "hw-a" / "bob.py", "#" * 101)
    found, _ = discover(tmp_path, ASSIGNMENTS)
    subs = by_student(found)
    assert subs["alice"].files == (small,)
    assert len(subs["alice"].notes) == 1 and "huge.ipynb" in subs["alice"].notes[0]
    assert subs["bob"].files == ()
    assert len(subs["bob"].notes) == 1 and "bob.py" in subs["bob"].notes[0]


def test_a_file_at_the_limit_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover_module, "MAX_FILE_BYTES", 100)
    exact = touch(tmp_path / "hw-a" / "alice.py", "#" * 100)
    found, _ = discover(tmp_path, ASSIGNMENTS)
    assert found[0].files == (exact,) and found[0].notes == ()
