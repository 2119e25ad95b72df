"""trafilatura's metadata heuristics as fallbacks, each run only when Dateline asks for it.

``bare_extraction(with_metadata=True)`` runs every heuristic on every page: JSON-LD parsing
(5.7 ms a page on the sample), the DOM author search (8.2 ms where it runs), categories, license,
htmldate. Dateline reads JSON-LD, meta tags, bylines and dates itself (transforms/metadata.py,
transforms/bylines.py) and needs trafilatura only where those are silent, so extraction runs
without metadata and this object computes a field the first time it is read.
"""

from __future__ import annotations

from functools import cached_property

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document, set_date_params


class TrafilaturaFallbacks:
    """trafilatura's title, site name, description, author, date and categories for one page, lazily.

    Values follow trafilatura's own rules (meta tags first, then the DOM), minus its JSON-LD pass,
    which Dateline's own candidates cover. The tree must not be changed while this object is in use.
    """

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self._tree = tree
        self._url = url

    @cached_property
    def _meta(self) -> Document:
        return examine_meta(self._tree)

    @cached_property
    def title(self) -> str | None:
        return self._meta.title or extract_title(self._tree)

    @cached_property
    def description(self) -> str | None:
        return self._meta.description

    @cached_property
    def sitename(self) -> str | None:
        name = (self._meta.sitename or extract_sitename(self._tree) or "").lstrip("@")
        if name:
            return name if "." in name or name[0].isupper() else name.title()
        match = META_URL.match(self._url)
        return match[1] if match else None

    @cached_property
    def author(self) -> str | None:
        author = self._meta.author
        if author and " " in author:  # trafilatura drops one-word meta authors ("admin", "staff")
            return author
        return extract_author(self._tree)

    @cached_property
    def date(self) -> str | None:
        """htmldate's publication day (extensive search, as trafilatura runs it)."""
        params = set_date_params(True)
        params["url"] = self._url
        found = find_date(self._tree, **params)
        return found if isinstance(found, str) else None

    @cached_property
    def categories(self) -> list[str]:
        return self._meta.categories or extract_catstags("category", self._tree)
