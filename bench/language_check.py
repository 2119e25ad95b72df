"""How often the declared language is overruled by the text, on the fixture pages (transforms/language.py).

Every page under tests/fixtures (and ../shared/fixtures when it is there: the same Fundus pages plus
any added since) is extracted; for each page that declares a language the rule's verdict is
printed when it differs from the declaration, with the detector's top two languages and the text's
start, so each change can be checked by eye. Pages where the detector's top language differs but the
rule keeps the declaration (a macrolanguage pair, too little text, an unsure detection) are listed too.

    python bench/language_check.py
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from dateline.transforms.extract import PageInput, extract_article
from dateline.transforms.language import _probabilities, check_language
from dateline.transforms.schema import ExtractedPage

ROOT = Path(__file__).resolve().parent.parent
ROOTS = [ROOT / "tests" / "fixtures", ROOT.parent / "shared" / "fixtures", Path("/work/shared/fixtures")]


def pages() -> dict[str, Path]:
    """Page files by their path under fixtures/ (a page in both trees is read once)."""
    found: dict[str, Path] = {}
    for root in ROOTS:
        if not root.is_dir():
            print(f"note: {root} is not there", file=sys.stderr)
            continue
        for path in sorted(root.rglob("*")):
            if path.name.endswith((".html", ".html.gz")) and path.is_file():
                found.setdefault(str(path.relative_to(root)), path)
    return found


def main() -> None:
    declared_pages = changed = kept_differing = 0
    for key, path in pages().items():
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        meta = path.with_name(path.name.removesuffix(".gz").removesuffix(".html") + ".json")
        url = "https://fixture.example/" + path.name
        if meta.is_file():
            url = json.loads(meta.read_text()).get("url") or url
        page = extract_article(data, PageInput(url=url, content_type="text/html", fetched_at=datetime.now(UTC),
                                               raw_ref="fixture#0"), run_id="bench")
        if not isinstance(page, ExtractedPage) or "language:detected" in page.article.issues:
            continue
        article = page.article
        declared_pages += 1
        verdict = check_language(article.language, article.text)
        top = sorted(_probabilities(article.text[:3000]).items(), key=lambda kv: -kv[1])[:2]
        tops = ", ".join(f"{code} {p:.4f}" for code, p in top)
        start = " ".join(article.text.split())[:110]
        if verdict.overruled:
            changed += 1
            print(f"CHANGED {key}: declared {verdict.overruled} -> {verdict.language} ({tops}) | {start}")
        elif top[0][0] != article.language:
            kept_differing += 1
            print(f"kept    {key}: declared {article.language}, detector {tops} | {start}")
    print(f"{declared_pages} pages declare a language; {changed} changed by the rule; "
          f"{kept_differing} kept although the detector's top language differs")


if __name__ == "__main__":
    main()
