"""The HTML reports in a real browser: `grader run` grades the bundled samples once, then headless
Chromium opens the class page, the instructor page and every student's page with the network
refused (a proxy on a closed port), the links are followed, the pages are measured at phone
width, and the class page and a student's page are photographed at phone and desktop widths.

Chromium is required: when it is missing these tests FAIL, they do not skip, so a machine without
it cannot pass them silently. The CI script (`.ci/run`) installs Debian's `chromium` package.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from grader.report import INSTRUCTOR_PAGE, page_name
from grader.results import SubmissionResult
from grader.rubric import load_rubrics

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
OFFLINE = ["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]  # every request is refused
PHONE, DESKTOP = (390, 844), (1280, 900)
URL_ATTRIBUTES = ("href", "src", "xlink:href", "action", "poster", "srcset", "data", "formaction")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium offline with a fresh profile, console messages logged to stderr."""
    binary = shutil.which("chromium")
    assert binary, "chromium is not installed; the CI script .ci/run installs it (apt-get install chromium)"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([binary, *FLAGS, *OFFLINE, "--enable-logging=stderr", f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


class Page(HTMLParser):
    """The URLs a page refers to and the ids it defines."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in URL_ATTRIBUTES and value:
                self.urls.append(value)
            elif key in ("id", "name") and value:
                self.ids.add(value)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reports")
    done = subprocess.run([sys.executable, "-m", "grader.cli", "run", "submissions/", "--out", str(folder)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.fixture(scope="module")
def results(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def doms(out: Path) -> dict[Path, str]:
    """Each page's DOM as Chromium built it offline; a page that logs anything to the console
    (a blocked load, a script) fails here."""
    built = {}
    for page in sorted(out.rglob("*.html")):
        done = chromium("--dump-dom", page.as_uri())
        console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        assert not console, (page, console)
        built[page] = done.stdout
    return built


def visible(dom: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def page_of(result: dict) -> str:
    """The page of a results.json entry, named as the report names it."""
    return page_name(SubmissionResult(result["student"], result["assignment"], result["score"], result["max_score"], []))


def title(dom: str) -> str:
    found = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert found, dom[:500]
    return html.unescape(found.group(1))


def test_every_page_renders_offline_with_its_title_and_score(out: Path, results: list[dict], doms: dict[Path, str]) -> None:
    rubrics = load_rubrics(ROOT / "rubrics")
    assert len(doms) == len(results) + 3  # the class page, the instructor page, the written answers and one per hand-in
    index = doms[out / "index.html"]
    assert title(index) == "Class results"
    assert all(visible(index).count(r.title) >= 1 for r in rubrics.values())
    assert index.count("<svg") == 2 * len(rubrics)  # a histogram and part bars per assignment
    assert title(doms[out / INSTRUCTOR_PAGE]).endswith("instructor only")
    assert "Shared unusual wrong answers" in visible(doms[out / INSTRUCTOR_PAGE])
    for result in results:
        dom = doms[out / page_of(result)]
        assert title(dom) == f"{result['student']} — {rubrics[result['assignment']].title}"
        text = visible(dom)
        score = text.index(f"{result['score']:g} / {result['max_score']:g} points")
        lead = text.find("What to fix first") if "What to fix first" in text else text.find("Nothing to fix")
        assert 0 < score < lead < text.index("Parts"), text[:600]  # the score, then what to fix first
        assert "Your code as the grader ran it" in text  # the page's last section: rendered to the end
        assert result["student"] in visible(index)


def test_every_relative_link_resolves_to_a_file_and_anchor(out: Path, doms: dict[Path, str]) -> None:
    parsed = {path: Page(dom) for path, dom in doms.items()}
    checked = 0
    for path, page in parsed.items():
        for url in page.urls:
            parts = urlsplit(url)
            if parts.scheme == "data":
                continue
            assert not parts.scheme and not parts.netloc, (path, url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), (path, url)
            if parts.fragment:
                assert unquote(parts.fragment) in parsed[target].ids, (path, url)
            checked += 1
    assert checked > len(doms) * 2


def test_nothing_in_the_html_points_off_the_machine(out: Path) -> None:
    for path in sorted(out.rglob("*.html")):
        raw = path.read_text()
        for url in Page(raw).urls:
            for candidate in url.split(","):  # srcset lists several
                parts = urlsplit(candidate.strip())
                assert parts.scheme in ("", "data") and not parts.netloc, (path, url)
        for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", raw):
            assert urlsplit(url.strip()).scheme in ("", "data") and not url.strip().startswith("//"), (path, url)
        assert "@import" not in raw, path


def test_pages_fit_a_phone_without_sideways_scrolling(out: Path, tmp_path: Path) -> None:
    """Each page in a 390-pixel frame: the document may not be wider than the frame (tables and
    <pre> blocks scroll inside their own boxes)."""
    pages = sorted(out.rglob("*.html"))
    frames = "".join(f'<iframe data-page="{html.escape(str(p.relative_to(out)))}" src="{html.escape(p.as_uri())}" '
                     f'width="{PHONE[0]}" height="{PHONE[1]}"></iframe>' for p in pages)
    probe = tmp_path / "probe.html"
    probe.write_text(f"""<!doctype html><meta charset="utf-8"><body>{frames}<pre id="widths"></pre><script>
addEventListener("load", () => {{
  document.getElementById("widths").textContent = [...document.querySelectorAll("iframe")].map(frame => {{
    const root = frame.contentDocument.documentElement;
    return frame.dataset.page + " " + (root.scrollWidth - root.clientWidth);
  }}).join("\\n");
}});
</script>""")
    dom = chromium("--allow-file-access-from-files", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="widths">(.*?)</pre>', dom, re.S)
    assert found and found.group(1).strip(), dom[-2000:]
    overflow = dict(line.rsplit(" ", 1) for line in html.unescape(found.group(1)).strip().splitlines())
    assert len(overflow) == len(pages)
    assert {name: int(extra) for name, extra in overflow.items() if int(extra) > 0} == {}


@pytest.mark.parametrize("width, height", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_of_the_class_page_and_a_student_page(out: Path, tmp_path: Path, width: int, height: int) -> None:
    student = next((out / "cap5619-hw3").glob("carol_mistakes-*.html"))
    for name, page in [("class", out / "index.html"), ("student", student)]:
        shot = tmp_path / f"{name}-{width}.png"
        chromium(f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri())
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, shot
        assert struct.unpack(">II", data[16:24]) == (width, height), shot
