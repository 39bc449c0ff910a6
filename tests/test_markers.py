"""The allow markers a range adds: named in a warning and a report note (sources/markers.py)."""

from __future__ import annotations

import json
from pathlib import Path

from gitrepo import GitRepo
from helpers import assert_redacted, random_secret
from test_cli import run

from keytrap.sources import markers
from keytrap.sources.gitcat import open_repo


def test_marker_lines_read_as_the_engine_reads() -> None:
    data = (b"a = 1  # keytrap: allow\n"
            b'note = "keytrap: allow"\n'  # in a string: no marker
            b"b = 2 ; keytrap: allow\n"  # not a comment after code
            b"x\r# keytrap: allow\r"  # a lone CR ends a line
            b"a = 1  # keytrap: allow\n")
    # line numbers as findings give them (counted by LF)
    assert markers.marker_lines(data) == {b"a = 1  # keytrap: allow": [1, 4], b"# keytrap: allow": [4]}
    assert markers.marker_lines("k = 1  # keytrap: allow\n".encode("utf-16-le")) == {
        b"k = 1  # keytrap: allow": [1]}


def test_added_lines_compare_line_texts_with_every_parent() -> None:
    old = {b"a # keytrap: allow": [3]}
    assert markers.added_lines({b"a # keytrap: allow": [7]}, [old]) == []  # moved: not new
    assert markers.added_lines({b"a # keytrap: allow": [1, 7]}, [old]) == [7]  # one more copy
    assert markers.added_lines({b"KEY # keytrap: allow": [3]}, [old]) == [3]  # edited to sit by a key
    assert markers.added_lines({b"a # keytrap: allow": [3]}, [{}, old]) == []  # a merge: from a parent


def test_parse_log_reads_plain_and_combined_records() -> None:
    z, a, b, c = "0" * 40, "a" * 40, "b" * 40, "c" * 40
    out = (f"\0{'1' * 40}\0\n:000000 100644 {z} {a} A\0new.py\0:100644 100644 {b} {a} M\0\nodd name\0"
           f":100644 000000 {a} {z} D\0gone.py\0:100644 160000 {a} {b} M\0sub\0"
           f"\0{'2' * 40}\0\0::100644 100644 100644 {a} {b} {c} MM\0m.py\0").encode()
    changes = markers.parse_log(out)
    assert [(ch.commit[0], ch.path, ch.new, ch.parents) for ch in changes] == [
        ("1", "new.py", a, ()), ("1", "\nodd name", a, (b,)), ("2", "m.py", c, (a, b))]


def _pr(repo: GitRepo, key: str, secret: str) -> None:
    """main holds a marker of its own; the pull request adds two, edits main's marker line to
    sit beside a key, merges main back in and hides one more behind ``.gitattributes``."""
    repo.commit("base", {"app.py": "x = 1  # keytrap: allow\nprint(x)\n", "README.md": "hi\n"})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("keys", {"prod.env": f"BINANCE_API_KEY={key}  # keytrap: allow\n"
                                      f"BINANCE_API_SECRET={secret}  # keytrap: allow\n",
                         "app.py": "x = 1  # keytrap: allow\nprint(x, 2)\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"lib.py": "y = 2  # keytrap: allow\n"})
    repo.git("checkout", "-q", "pr")
    repo.merge("main", "merge main")
    repo.commit("more", {"app.py": f"x = '{random_secret()}'  # keytrap: allow\nprint(x, 2)\n",
                         ".gitattributes": "* binary -diff\n",
                         "data.bin": b"\x00\x01binance # keytrap: allow\n"})


def test_a_range_names_the_markers_it_adds(tmp_path: Path, key: str, secret: str) -> None:
    repo = GitRepo(tmp_path / "repo")
    _pr(repo, key, secret)
    found = markers.added_markers(open_repo(repo.path).loc, ["main..pr"])
    assert sorted((m.path, m.line) for m in found) == [("app.py", 1), ("data.bin", 1), ("prod.env", 1), ("prod.env", 2)]
    for fmt in ("json", "sarif", "text"):
        proc = run("scan", str(repo.path), "--range", "main..pr", "--no-progress", "-f", fmt)
        assert proc.returncode == 0, proc.stderr  # silenced, as the markers say: but not unseen
        (warning,) = [ln for ln in proc.stderr.splitlines() if "allow markers" in ln]
        assert warning.startswith("keytrap: warning: allow markers: the scanned commits add 4 ")
        for where in ("prod.env:1", "prod.env:2", "app.py:1", "data.bin:1"):
            assert where in warning
        assert "lib.py" not in warning  # main's own marker, merged in: not the range's
        if fmt == "json":
            (note,) = [n for n in json.loads(proc.stdout)["stats"]["notes"] if "allow markers" in n]
            assert "add 4 `keytrap: allow` markers" in note
        elif fmt == "sarif":
            notes = json.loads(proc.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            assert any("add 4 `keytrap: allow` markers" in n["message"]["text"] for n in notes)
        else:
            assert "note: allow markers: the scanned commits add 4" in proc.stdout
        assert_redacted(proc.stdout + proc.stderr, [key, secret])
    since = run("scan", str(repo.path), "--since-commit", "main", "--no-progress", cwd=repo.path)
    assert "the scanned commits add 4 `keytrap: allow` markers" in since.stderr


def test_no_note_when_a_range_adds_no_marker(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("base", {"app.py": "x = 1  # keytrap: allow\nprint(x)\n"})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("edit around it", {"app.py": "import os\nx = 1  # keytrap: allow\nprint(x)\n"})
    repo.commit("drop it", {"app.py": "print(1)\n"})
    assert markers.added_markers(open_repo(repo.path).loc, ["main..pr"]) == []
    proc = run("scan", str(repo.path), "--range", "main..pr", "--no-progress", "-f", "json")
    assert proc.returncode == 0 and "allow markers" not in proc.stderr + proc.stdout


def test_the_note_lists_a_bounded_number() -> None:
    many = [markers.AddedMarker("c" * 40, f"f{i}.py", 1) for i in range(markers.MAX_LISTED + 5)]
    text = markers.note(many)
    assert text is not None and "f0.py:1" in text and "and 5 more" in text
    assert f"f{markers.MAX_LISTED}.py" not in text
    assert markers.note([]) is None
    assert "1 `keytrap: allow` marker, which silences" in (markers.note(many[:1]) or "")
