"""The internal link check of the built documentation, on a tiny fake site."""

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "check_docs_links.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("check_docs_links", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _site(root, pages):
    for name, body in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<!DOCTYPE html><html><head></head><body>{body}</body></html>")
    return root


GOOD = {
    "index.html": (
        '<link rel="stylesheet" href="_static/style.css">'
        '<script src="_static/app.js"></script>'
        '<a href="guide/page.html#usage">usage</a> <a href="#top">top</a>'
        '<a href="guide/">guide</a> <a href="https://hyperspy.org/">HyperSpy</a>'
        '<a href="mailto:a@b.c">mail</a> <a href="#">nothing</a>'
        '<img src="_images/fig%201.png"> <h1 id="top">Top</h1>'
    ),
    "guide/index.html": '<a href="../index.html">home</a><a href="#old"></a><a name="old"></a>',
    "guide/page.html": '<section id="usage"></section><a href="/index.html#top">abs</a>'
                       '<link rel="canonical" href="https://example.org/page.html">',
}


def test_a_consistent_site_passes(tmp_path, checker):
    site = _site(tmp_path, GOOD)
    (site / "_static").mkdir()
    (site / "_static" / "style.css").write_text("")
    (site / "_static" / "app.js").write_text("")
    # a theme's template among the assets is not a page
    (site / "_static" / "macros.html").write_text('<a href="{{ pathto(x) }}">x</a>')
    (site / "_images").mkdir()
    (site / "_images" / "fig 1.png").write_bytes(b"")
    assert checker.check_site(site) == []
    assert checker.main([str(site)]) == 0


def test_every_kind_of_problem_is_reported(tmp_path, checker, capsys):
    site = _site(tmp_path, {
        "index.html": (
            '<a href="missing.html">a</a>'                      # no such file
            '<a href="page.html#nowhere">b</a>'                 # no such anchor
            '<a href="#local">c</a>'                            # no anchor on this page
            '<img src="_images/none.png">'                      # missing image
            '<script src="https://cdn.example.org/x.js"></script>'  # network script
            '<link rel="stylesheet" href="//cdn.example.org/x.css">'  # network style
            '<a href="../outside.html">d</a>'                   # outside the site
        ),
        "page.html": '<div id="here"></div>',
    })
    problems = checker.check_site(site)
    text = "\n".join(problems)
    assert len(problems) == 7, text
    assert "missing.html: no file missing.html" in text
    assert "no anchor #nowhere in page.html" in text
    assert "no anchor #local in this page" in text
    assert "_images/none.png: no file" in text
    assert "loads https://cdn.example.org/x.js from the network" in text
    assert "loads //cdn.example.org/x.css from the network" in text
    assert "points outside the site" in text
    assert all(p.startswith("index.html:1: ") for p in problems)
    assert checker.main([str(site)]) == 1
    assert "7 broken internal link(s)" in capsys.readouterr().err


def test_a_missing_site_is_a_failure(tmp_path, checker):
    assert checker.main([str(tmp_path / "nothing")]) == 1
    assert checker.check_site(tmp_path) == [f"{tmp_path.resolve()}: no HTML page"]
