"""``ckm run``: the whole study, from raw responses to ``report.html``."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Add ``ckm run`` to the ``ckm`` command line."""
    from ckm_research.cli.common import common_options
    from ckm_research.report.stages import STAGE_NAMES

    p = subparsers.add_parser(
        "run",
        parents=[common_options()],
        help="run the whole study (notebooks with papermill) and write the report",
        description=(
            "Run the study's notebooks (" + ", ".join(STAGE_NAMES) + ") with papermill in the "
            "project's kernel, passing results between stages through files in the output "
            "folder, and write report.html, results.json, manifest.json, tables (CSV, LaTeX) "
            "and figures (PNG, SVG). With no arguments: the default CKM study on "
            "data/example/ into reports/ckm-study/. Parameters are checked before any "
            "notebook runs; ckm run --show-params lists them with their values."
        ),
        epilog=(
            "examples:\n"
            "  ckm run\n"
            "  ckm run --params notebooks/params/quick.yaml --output reports/quick\n"
            "  ckm run -p data_file survey.sav -p missing_values '[-99]' -p n_boot 2000\n"
            "  ckm run --only report              # rebuild report.html from the results\n"
            "  ckm run --grid notebooks/params/sensitivity.yaml --output reports/sensitivity"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--params", metavar="FILE.yaml", default=None,
                   help="YAML file of parameters (name: value)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   default=[], dest="overrides",
                   help="set one parameter; VALUE is read as YAML (200, ML, '[a, b]'); "
                        "repeatable, wins over --params")
    p.add_argument("--output", metavar="DIR", default=None,
                   help="output folder (default reports/ckm-study; parameter output_dir)")
    p.add_argument("--only", metavar="STAGE", action="append", default=None,
                   help="run only this stage (repeatable or comma-separated): "
                        + ", ".join(STAGE_NAMES) + "; earlier stages' results must be in "
                        "the output folder")
    p.add_argument("--grid", metavar="GRID.yaml", default=None,
                   help="run several parameter sets in parallel into separate folders and "
                        "write a comparison table (see ckm_research/report/grid.py)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="parameter sets run at once with --grid (default: number of CPUs)")
    p.add_argument("--show-params", action="store_true",
                   help="print the checked parameters as YAML and exit")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ui) -> int:
    from ckm_research.cli import EXIT_OK, EXIT_USAGE
    from ckm_research.report.params import load_params

    if args.grid:
        if args.only:
            ui.error("--only and --grid cannot be combined")
            return EXIT_USAGE
        return _run_grid(args, ui)
    params = load_params(args.params, args.overrides, output_dir=args.output)
    if args.show_params:
        import yaml

        from ckm_research.report.params import PipelineParams

        fields = PipelineParams.model_fields
        for name, value in params.as_dict().items():
            text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True,
                                  width=1000).strip()
            text = text.removesuffix("...").strip()
            print(f"# {fields[name].description}\n{name}: {text}")
        return EXIT_OK
    from ckm_research.report.runner import Progress, run_pipeline

    progress = Progress(quiet=args.quiet)
    result = run_pipeline(params, only=args.only, progress=progress)
    out = result.output_dir
    lines = [f"Done in {result.seconds:.0f} s. Results in {out}/:"]
    if result.report is not None:
        lines.append("  report.html     the report (open it in a browser)")
        lines.append("  report.docx     the same report for Word (APA tables as Word tables)")
        lines.append("  tables.xlsx     every table of the report, full precision")
    lines += ["  results.json    every number the report shows",
              "  manifest.json   versions, parameters, seed, data checksum, git commit",
              "  tables/         CSV (full precision) and LaTeX (APA)",
              "  figures/        PNG and SVG",
              "  notebooks/      the executed notebooks"]
    if result.report is None and args.only:
        lines.append("  (report.html was not rebuilt: run ckm run --only report)")
    print("\n".join(lines), flush=True)
    for run_ in result.stages:
        if run_.status.startswith("ok (not available"):
            ui.warning(f"stage {run_.name}: {run_.status[3:].strip('() ')}")
    return EXIT_OK


def _run_grid(args, ui) -> int:
    from ckm_research.cli import EXIT_OK, EXIT_USAGE
    from ckm_research.report.grid import load_grid, run_grid

    output = args.output or "reports/ckm-grid"
    runs = load_grid(args.grid, params_file=args.params, overrides=args.overrides,
                     output_dir=output)
    if args.show_params:
        import yaml

        for r in runs:
            print(f"# run {r.name}")
            print(yaml.safe_dump(r.params.as_dict(), sort_keys=False, allow_unicode=True))
        return EXIT_OK
    result = run_grid(runs, output, jobs=args.jobs,
                      echo=None if not args.quiet else (lambda text: None))
    if result.comparison is not None:
        print(f"Comparison of the runs: {result.comparison} (also .tex and .html)")
    for r in result.runs:
        print(f"  {r.name:<24} {r.status:<7} {r.seconds:6.1f} s  {r.params.output_dir}")
    if result.failed:
        ui.error(f"{len(result.failed)} of {len(result.runs)} runs failed: "
                 + "; ".join(f"{r.name}: {r.error}" for r in result.failed)
                 + " (logs: <run>/pipeline.log)")
        return EXIT_USAGE
    sys.stdout.flush()
    return EXIT_OK
