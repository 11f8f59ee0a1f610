"""Check the internal links of the built HTML documentation, offline.

Every ``href`` and ``src`` of every page under the site folder that points
inside the site must name a file that exists and, with a ``#fragment``, an
element of that page with this ``id`` (or an ``<a name=...>``). Links to other
sites are not followed (the check needs no network), but a page must not
*load* anything from another site (a script, a style sheet, an image, a
frame): the site has to work offline.

Usage: python scripts/check_docs_links.py [SITE]   (default docs/_build/html)

Prints one line per problem and exits with status 1 if there is any.
"""

from __future__ import annotations

import argparse
import html.parser
import pathlib
import sys
import urllib.parse

#: Schemes of links that leave the site (not checked).
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto", "ftp", "tel", "javascript"})

#: (tag, attribute) pairs whose URL the browser loads with the page.
LOADED = frozenset({("script", "src"), ("img", "src"), ("iframe", "src"), ("embed", "src"),
                    ("source", "src"), ("video", "src"), ("audio", "src"),
                    ("input", "src"), ("object", "data")})

#: ``<link rel=...>`` values that make the browser load the target.
LOADED_LINK_RELS = frozenset({"stylesheet", "icon", "preload", "modulepreload",
                              "shortcut", "apple-touch-icon", "manifest"})


class _PageParser(html.parser.HTMLParser):
    """Collect the anchors a page defines and the URLs it refers to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.urls: list[tuple[int, str, str, bool]] = []  # line, attr, url, loaded

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.anchors.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.anchors.add(attrs["name"])
        line = self.getpos()[0]
        for attr in ("href", "src", "data"):
            url = attrs.get(attr)
            if url is None or (attr == "data" and tag != "object"):
                continue
            if tag == "link":
                rels = set((attrs.get("rel") or "").lower().split())
                loaded = bool(rels & LOADED_LINK_RELS)
            else:
                loaded = (tag, attr) in LOADED
            self.urls.append((line, attr, url, loaded))

    handle_startendtag = handle_starttag


def _parse(path: pathlib.Path, cache: dict) -> _PageParser:
    if path not in cache:
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        parser.close()
        cache[path] = parser
    return cache[path]


def _resolve(page: pathlib.Path, path: str, site: pathlib.Path) -> pathlib.Path:
    target = (site / path.lstrip("/")) if path.startswith("/") else (page.parent / path)
    if target.is_dir():
        target = target / "index.html"
    return target


def check_site(site: str | pathlib.Path) -> list[str]:
    """Problems of the site's internal links, one sentence each (empty: none)."""
    site = pathlib.Path(site).resolve()
    if not site.is_dir():
        return [f"{site}: no such folder (build the documentation first)"]
    # _static holds the theme's templates and assets, not pages.
    pages = sorted(p for p in site.rglob("*.html")
                   if p.relative_to(site).parts[0] != "_static")
    if not pages:
        return [f"{site}: no HTML page"]
    cache: dict = {}
    problems = []
    for page in pages:
        rel = page.relative_to(site).as_posix()
        for line, attr, url, loaded in _parse(page, cache).urls:
            url = url.strip()
            if not url or url == "#":
                continue
            parts = urllib.parse.urlsplit(url)
            if parts.scheme or url.startswith("//"):
                if loaded and (parts.scheme in ("http", "https") or url.startswith("//")):
                    problems.append(f"{rel}:{line}: loads {url} from the network")
                elif parts.scheme not in EXTERNAL_SCHEMES | {"data"}:
                    problems.append(f"{rel}:{line}: unknown scheme in {attr}={url!r}")
                continue
            path = urllib.parse.unquote(parts.path)
            fragment = urllib.parse.unquote(parts.fragment)
            target = _resolve(page, path, site) if path else page
            try:
                target.resolve().relative_to(site)
            except ValueError:
                problems.append(f"{rel}:{line}: {url} points outside the site")
                continue
            if not target.is_file():
                problems.append(f"{rel}:{line}: {url}: no file "
                                f"{target.resolve().relative_to(site).as_posix()}")
                continue
            if fragment and target.suffix == ".html":
                if fragment not in _parse(target, cache).anchors:
                    where = "this page" if target == page else \
                        target.resolve().relative_to(site).as_posix()
                    problems.append(f"{rel}:{line}: {url}: no anchor #{fragment} in {where}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default="docs/_build/html",
                        help="folder of the built HTML site (default: %(default)s)")
    args = parser.parse_args(argv)
    problems = check_site(args.site)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} broken internal link(s) in {args.site}", file=sys.stderr)
        return 1
    print(f"internal links of {args.site}: no broken link, nothing loaded from the network")
    return 0


if __name__ == "__main__":
    sys.exit(main())
