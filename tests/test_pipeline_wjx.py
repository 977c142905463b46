"""The pipeline's data stage on a Wenjuanxing export (GBK CSV, by text).

``ckm run -p data_file export.csv --only instrument,data`` must import the
export exactly as ``ckm data import`` does, say in the report's notes how the
file's text was decoded, and analyse the same rows as the example CSV gives.
Slow (two notebooks, about 30 s).
"""

from __future__ import annotations

import io
import json

import pandas as pd

from tests.make_wjx_exports import EXAMPLE, write_exports
from tests.pipeline_fixtures import need_pipeline


def test_data_stage_reads_a_gbk_wenjuanxing_export(tmp_path):
    need_pipeline()
    from ckm_research.data.importer import import_responses
    from ckm_research.data.subset import apply_subset
    from ckm_research.report import load_params, run_pipeline
    from ckm_research.report.runner import Progress

    export = write_exports(tmp_path / "raw")["text_gbk_csv"]
    out = tmp_path / "run"
    params = load_params(None, {"data_file": str(export)}, output_dir=out)
    run_pipeline(
        params,
        only=["instrument", "data"],
        progress=Progress(stream=io.StringIO(), interactive=False),
    )
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))["stages"]["data"]
    assert f"{export.name} was read as GBK (detected) text." in data["notes"]
    assert data["numbers"]["data_format"] == "wjx"
    # the rows and answers the same import of the example CSV gives (respondent
    # pseudonyms differ: of 序号 in the export, of the made-up ids in the CSV)
    analysed = pd.read_csv(out / "data" / "analysis.csv").drop(columns="respondent")
    csv = import_responses(EXAMPLE, "ckm", missing_values=params.missing_values or None,
                           drop=list(params.drop or []) or None)
    expected, _ = apply_subset(csv.data, params.subset)
    expected = expected.drop(columns="respondent")
    assert list(analysed.columns) == list(expected.columns)
    assert len(analysed) == len(expected) > 0
    for col in ["row", "duration_sec", *csv.instrument.item_ids()]:
        pd.testing.assert_series_equal(
            analysed[col].astype(float),
            expected[col].astype(float).reset_index(drop=True),
            check_names=False,
        )
