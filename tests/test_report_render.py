"""``report.html`` as a reader sees it: rendered by headless Chromium.

The quick pipeline run's report is opened in Debian's ``chromium`` (installed
by ``.ci/run``), once to take a screenshot - which must not be blank - and once
with a probe script that waits for the page to load and reports how many
images loaded and whether the visible text holds error messages. Skipped only
when no Chromium is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.pipeline_fixtures import quick_run

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")

#: Text that must not appear in the rendered report.
ERROR_TEXT = re.compile(
    r"Traceback \(most recent call last\)|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\bNaN\b|"
    r"\bnan\b|\bundefined\b|\{\{|\}\}")

PROBE = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var pre = document.createElement("pre");
  pre.id = "ckm-probe";
  pre.textContent = "CKM-PROBE images=" + imgs.length + " loaded=" + ok + " chars=" +
    document.body.innerText.length;
  document.body.appendChild(pre);
});
</script>
"""


def _chromium(*args: str, user_dir: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--no-first-run",
           "--disable-sync", f"--user-data-dir={user_dir}", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def report() -> Path:
    return quick_run() / "report.html"


def test_report_screenshot_is_not_blank(report, tmp_path):
    png = tmp_path / "report.png"
    proc = _chromium("--window-size=1000,3000", f"--screenshot={png}", report.as_uri(),
                     user_dir=tmp_path / "profile")
    assert png.exists(), proc.stderr[-2000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(png)[..., :3]
    assert img.shape[0] >= 2900 and img.shape[1] >= 900
    ink = (img.mean(axis=2) < 0.85).mean()  # share of non-white pixels
    assert ink > 0.02, f"the page looks blank ({ink:.3%} of pixels have ink)"
    assert len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


def test_all_images_load_and_no_error_text(report, tmp_path):
    html = report.read_text(encoding="utf-8")
    probed = tmp_path / "probe.html"
    probed.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = _chromium("--virtual-time-budget=20000", "--dump-dom", probed.as_uri(),
                     user_dir=tmp_path / "profile")
    dom = proc.stdout
    m = re.search(r"CKM-PROBE images=(\d+) loaded=(\d+) chars=(\d+)", dom)
    assert m, f"the page did not finish loading: {proc.stderr[-2000:]}"
    images, loaded, chars = map(int, m.groups())
    assert images >= 4, "the report should show its figures"
    assert loaded == images, f"{images - loaded} of {images} images did not load"
    assert chars > 5000
    text = re.sub(r"<img[^>]*>", " ", dom)
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    bad = ERROR_TEXT.findall(text)
    assert not bad, f"error text in the report: {bad[:5]}"
    assert "not available" not in text, "a part of the report is missing"
