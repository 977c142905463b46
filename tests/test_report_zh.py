"""The Chinese report (``ckm run -p language zh``) as a reader sees it.

The quick pipeline run is made twice, in English and in Chinese. The Chinese
``report.html`` is rendered by headless Chromium (as in
``tests/test_report_render.py``): its headings, table numbers, titles and notes
must be Chinese, and no English sentence of the report's message catalogue may
be left in the text (the references, the model syntax and the provenance values
stay as they are). ``results.json`` of the two runs must hold the same numbers:
every number, boolean and the structure are equal, only texts (and the language
parameter with the fingerprint it changes) differ. The executed notebooks must
show no "Glyph ... missing from font" warning from matplotlib.
"""

from __future__ import annotations

import re

import pytest

from ckm_research.report.i18n import MESSAGES
from tests.pipeline_fixtures import quick_run, quick_run_zh, results
from tests.test_report_render import CHROMIUM, ERROR_TEXT, PROBE, _chromium

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)",
)

HAN = re.compile(r"[\u4e00-\u9fff]")


def english_phrases() -> list[str]:
    """The fixed English parts of the catalogue's messages: what is left between the
    fields and HTML tags, kept when it has at least three English words of 3+ letters
    (citations such as "Hu & Bentler, 1999" are printed in both languages)."""
    phrases = set()
    for en, _ in MESSAGES.values():
        en = re.sub(r"<code>.*?</code>", "{code}", en)  # commands are the same in Chinese
        for part in re.split(r"\{\w+\}|<[^>]+>", en):
            part = part.strip(" .,;:()")
            if len(re.findall(r"\b[a-z]{3,}\b", part)) >= 3:
                phrases.add(part)
    # and the headings of the English report (one or two words)
    phrases |= {
        "Summary",
        "Method",
        "Results",
        "Measurement Model",
        "Structural Model",
        "Moderation",
        "Provenance",
        "Appendix",
        "Note.",
        "Table 1",
        "Figure 1",
        "not available",
    }
    return sorted(phrases)


@pytest.fixture(scope="module")
def dom(tmp_path_factory) -> str:
    report = quick_run_zh() / "report.html"
    probed = tmp_path_factory.mktemp("zh") / "probe.html"
    probed.write_text(
        report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    proc = _chromium(
        "--virtual-time-budget=20000",
        "--dump-dom",
        probed.as_uri(),
        user_dir=probed.parent / "profile",
    )
    assert "CKM-PROBE" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def _plain(html: str) -> str:
    text = re.sub(r"<img[^>]*>", " ", html)
    text = re.sub(r"<(script|style|pre)[^>]*>.*?</\1>", " ", text, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))


def test_headings_tables_and_figures_are_chinese(dom):
    m = re.search(r"CKM-PROBE images=(\d+) loaded=(\d+)", dom)
    assert m and int(m.group(1)) >= 4 and m.group(1) == m.group(2)
    headings = re.findall(r"<h([1-4])>(.*?)</h\1>", dom)
    assert len(headings) >= 15
    for level, heading in headings:
        assert HAN.search(heading), f"an English heading: <h{level}>{heading}"
    numbers = re.findall(r'class="apa-table-number"><strong>(.*?)</strong>', dom)
    assert len(numbers) >= 15 and all(re.fullmatch(r"表\d+", n) for n in numbers), numbers
    titles = re.findall(r'class="apa-table-title"><em>(.*?)</em>', dom)
    assert len(titles) == len(numbers) and all(HAN.search(t) for t in titles), titles
    notes = re.findall(r'class="apa-note"><em>(.*?)</em>\s*(.*?)</p>', dom)
    assert notes and all(lab == "注：" for lab, _ in notes)
    wordy = [body for _, body in notes if re.search("[a-z]{3}", body)]  # not just "N = 379."
    assert wordy and all(HAN.search(body) for body in wordy), [
        b for b in wordy if not HAN.search(b)
    ]
    figures = re.findall(
        r'class="apa-figure-number">(.*?)</p>'
        r'<p class="apa-figure-title">(.*?)</p>',
        dom,
    )
    assert len(figures) >= 4
    assert all(re.fullmatch(r"图\d+", n) and HAN.search(t) for n, t in figures), figures
    headers = re.findall(r"<th>(.*?)</th>", dom)
    assert sum(bool(HAN.search(h)) for h in headers) >= 30


def test_no_english_sentence_is_left(dom):
    body = dom.split('<div class="references">')[0]  # references stay in English
    body = re.sub(r'<table class="provenance">.*?</table>', " ", body, flags=re.S)
    text = _plain(body)
    # whole phrases: "Method" the heading, not the model names Method-C/U/R of
    # Williams et al. (2010), technical terms the Chinese text keeps
    left = [
        p for p in english_phrases() if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)
    ]
    assert not left, f"English phrases in the Chinese report: {left[:10]}"
    assert not ERROR_TEXT.findall(text)
    # the sentences are Chinese: most paragraphs have Chinese characters
    paragraphs = [_plain(p) for p in re.findall(r"<p>(.*?)</p>", body, flags=re.S)]
    paragraphs = [p for p in paragraphs if len(p.strip()) > 30]
    assert paragraphs and all(HAN.search(p) for p in paragraphs), [
        p[:80] for p in paragraphs if not HAN.search(p)
    ][:5]


def test_english_catalogue_phrases_are_in_the_english_report():
    # the check above can fail: the same phrases are found in the English report
    text = _plain((quick_run() / "report.html").read_text(encoding="utf-8"))
    found = [p for p in english_phrases() if p in text]
    assert len(found) >= 40, found


def _leaves(x, path=""):
    if isinstance(x, dict) and path.endswith("/ci"):
        # the keys of a table's CI columns are their printed headers (language fields)
        yield from _leaves(list(x.values()), path)
    elif isinstance(x, dict):
        yield path, ("dict", tuple(sorted(x)))
        for k, v in x.items():
            yield from _leaves(v, f"{path}/{k}")
    elif isinstance(x, list):
        yield path, ("list", len(x))
        for i, v in enumerate(x):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, x


#: Where the two runs may differ besides texts.
LANGUAGE_FIELDS = re.compile(r"^/study/parameters/(language|title)$|parameters_sha256$")


def test_results_hold_the_same_numbers_in_both_languages():
    en = dict(_leaves(results(quick_run())))
    zh = dict(_leaves(results(quick_run_zh())))
    assert en.keys() == zh.keys()
    differ = {p for p in en if en[p] != zh[p]}
    numbers = [
        p
        for p in differ
        if not LANGUAGE_FIELDS.search(p) and not (isinstance(en[p], str) and isinstance(zh[p], str))
    ]
    assert not numbers, [(p, en[p], zh[p]) for p in numbers[:10]]
    n_numbers = sum(isinstance(v, (int, float)) and not isinstance(v, bool) for v in en.values())
    assert n_numbers > 1000
    assert {p for p in differ if p.endswith("/title")}, "no title was translated"


def test_no_missing_glyphs_while_drawing_the_figures():
    executed = sorted((quick_run_zh() / "notebooks").glob("*.ipynb"))
    assert len(executed) >= 6
    for path in executed:
        text = path.read_text(encoding="utf-8")
        assert "missing from font" not in text, f"{path.name}: matplotlib lacked a glyph"
        assert "No font with Chinese characters" not in text
