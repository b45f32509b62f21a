"""The ``iceberg`` command: assess transcripts, build portraits, serve the API, run the demo, manage cases."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from service.cases.library import CaseError
from service.context import ServiceContext
from service.llm.bundled_weights import WeightsError
from service.llm.local_server import LocalServerError
from service.rubrics.loader import RubricError
from service.scoring.schemas import Assessment
from service.transcripts.parsing import TranscriptError, load_transcript_file
from service.transcripts.schemas import Transcript


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress_bar(done: int, total: int, width: int = 20) -> str:
    """``[#######-------------] 7/20``: one line per finished item, so it reads the same in a log file."""
    filled = round(width * done / total) if total else width
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


def assess_files(ctx: ServiceContext, files: list[Path], agent_id: str | None = None) -> tuple[list[Assessment], int]:
    """Score the files with ``ICEBERG_LLM_CONCURRENCY`` calls in flight and a progress line per file.

    Returns the assessments in file order and how many files failed (unreadable or not scored).
    """
    transcripts = []
    failures = 0
    for path in files:
        try:
            transcripts.append(load_transcript_file(path, agent_id))
        except TranscriptError as error:
            failures += 1
            _say(f"skipped: {error}")
    started = time.perf_counter()
    assessments: list[Assessment] = []
    done = 0
    fresh_time = 0.0
    fresh = 0

    def score(transcript: Transcript) -> tuple[Transcript, Assessment, float]:
        t0 = time.perf_counter()
        assessment = ctx.assessor.assess(transcript)
        return transcript, assessment, time.perf_counter() - t0

    workers = max(1, min(ctx.settings.llm_concurrency, len(transcripts)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for transcript, assessment, took in pool.map(score, transcripts):
            done += 1
            assessments.append(assessment)
            prefix = f"{progress_bar(done, len(transcripts))} {transcript.id} ({transcript.agent_id})"
            if assessment.status == "scored":
                scores = " ".join(f"{s.criterion_id}={s.score if s.score is not None else '-'}"
                                  for s in assessment.scores)
                _say(f"{prefix}: scored ({'cached' if assessment.cached else f'{took:.1f} s'}) {scores}")
            else:
                failures += 1
                _say(f"{prefix}: FAILED: {assessment.error}")
            if not assessment.cached:
                fresh += 1
                fresh_time = time.perf_counter() - started
            remaining = len(transcripts) - done
            if remaining and fresh:
                _say(f"    about {fresh_time / fresh * remaining / 60:.1f} min left")
    return assessments, failures


def _cmd_assess(ctx: ServiceContext, args: argparse.Namespace) -> int:
    assessments, failures = assess_files(ctx, [Path(f) for f in args.files], args.agent)
    if args.json:
        print(json.dumps([a.model_dump(mode="json") for a in assessments], ensure_ascii=False, indent=2))
    return 1 if failures else 0


def _cmd_portrait(ctx: ServiceContext, args: argparse.Namespace) -> int:
    from service.publishing import write_portraits

    from service.placement.window import DateRange

    try:
        dates = DateRange(args.since, args.until) if args.since or args.until else None
    except ValueError as error:
        _say(f"error: --since/--until: {error}")
        return 2
    portraits = write_portraits(ctx, Path(args.out), args.agents or None, args.lang, dates)
    if not portraits:
        _say("no scored assessments yet: run `iceberg assess FILE...` first")
        return 1
    for p in portraits:
        where = p.program.name if p.program else f"not yet placeable ({p.placement.calls_needed} more calls needed)"
        _say(f"{p.agent_id}: {where}")
    _say(f"wrote {len(portraits)} portraits and team.html to {args.out}")
    return 0


def _cmd_demo(ctx: ServiceContext, args: argparse.Namespace) -> int:
    from service.llm.provider import model_name
    from service.publishing import write_portraits

    files = sorted(p for p in ctx.settings.examples_dir.glob("transcripts/*") if p.suffix in (".json", ".txt"))
    if not files:
        _say(f"no example transcripts in {ctx.settings.examples_dir / 'transcripts'}")
        return 1
    ctx.cases  # check the rubric, programs and case library before minutes of scoring
    _say(f"Iceberg demo: scoring {len(files)} example calls with {model_name(ctx.settings)} "
         f"(rubric {ctx.rubric.version}, prompt {ctx.prompt.version}); data in {ctx.settings.data_dir}")
    if not ctx.settings.llm_model:
        _say("Starting the bundled local model (the first run joins its weights into the data folder)...")
    started = time.perf_counter()
    _, failures = assess_files(ctx, files)
    _say(f"scoring took {time.perf_counter() - started:.0f} s")
    out = Path(args.out)
    portraits = write_portraits(ctx, out, lang=args.lang)
    _say("")
    for p in portraits:
        axes = p.placement.axes
        where = (f"{p.quadrant_name} -> {p.program.name}" if p.program
                 else f"not yet placeable ({p.placement.calls_needed} more calls needed)")
        _say(f"  {p.agent_name or p.agent_id:<6} ability {axes['ability'].score!s:>5}  cognition "
             f"{axes['cognition'].score!s:>5}  {where}")
    _say("")
    _say(f"Team page:  {(out / 'team.html').resolve()}")
    _say(f"Portraits:  {(out / 'agents').resolve()}/<agent_id>.html and .json")
    _say("Browse them live with `iceberg serve` and open http://127.0.0.1:8000/")
    return 1 if failures else 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _source_commit() -> str | None:
    """The checkout's commit, for reports that must say what produced them; None outside a git checkout."""
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                              text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _cmd_eval(ctx: ServiceContext, args: argparse.Namespace) -> int:
    from service.evaluation.harness import (
        EvalReport,
        EvalRun,
        agreement_report,
        grader_report,
        identity_mapping,
        load_mapping,
        now,
        regressions,
        report_items,
        stability_report,
        write_report,
    )
    from service.evaluation.labelled import load_iceberg
    from service.evaluation.stc3 import load_stc3
    from service.llm.provider import model_name

    path = Path(args.file)
    if not path.is_file():
        _say(f"error: {path}: no such file")
        return 2
    try:
        if args.format == "stc3":
            dialogues = load_stc3(path, sample=args.sample, seed=args.seed)
            mapping = load_mapping(Path(args.mapping) if args.mapping else ctx.settings.rubrics_dir / "eval" / "stc3.yaml")
        else:
            dialogues = load_iceberg(path)
            if args.sample is not None and args.sample < len(dialogues):
                import random

                dialogues = random.Random(args.seed).sample(dialogues, args.sample)
            criteria = {c.id for c in ctx.rubric.criteria}
            mapping = load_mapping(Path(args.mapping)) if args.mapping else identity_mapping(dialogues, criteria)
    except ValueError as error:  # the loaders name the file and line or field
        _say(f"error: {error}")
        return 2
    if not mapping:
        _say(f"error: {path}: no label names a criterion of the rubric; give --mapping")
        return 2
    started = time.perf_counter()

    def progress(done: int, total: int, assessment: Assessment) -> None:
        state = "cached" if assessment.cached else assessment.status
        left = (time.perf_counter() - started) / done * (total - done) / 60
        _say(f"{progress_bar(done, total)} {assessment.transcript_id}: {state}"
             + (f"  (~{left:.1f} min left)" if total > done else ""))

    runner = EvalRun(lambda d: ctx.assessor.assess(d.transcript), progress,
                     assess_fresh=lambda d: ctx.assessor.assess(d.transcript, fresh=True))
    pairs = runner.run(dialogues)
    criteria = sorted({m.criterion for m in mapping.values()})
    if args.repeat > 1:
        _say(f"stability: {args.repeat - 1} more run(s) of up to {args.repeat_sample} calls, cache bypassed")
        started = time.perf_counter()
    repeats = runner.repeat(pairs, args.repeat, criteria, args.repeat_sample)
    scored = [(d, a) for d, a in pairs if a.status == "scored"]
    report = EvalReport(
        created_at=now(), model=model_name(ctx.settings), rubric_version=ctx.rubric.version,
        prompt_version=ctx.prompt.version, dataset=str(path.name), sample=args.sample, seed=args.seed,
        scored=len(scored), failed=len(pairs) - len(scored), criteria=agreement_report(scored, mapping, args.seed),
        graders=grader_report(scored, mapping), stability=stability_report(repeats, criteria),
        items=report_items(pairs, mapping, repeats),
        command="iceberg " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("iceberg") else None,
        commit=_source_commit(),
    )
    written = write_report(report, Path(args.out))
    for c in report.criteria:
        _say(f"{c.criterion:<18} vs {c.label}: QWK {_fmt(c.qwk.value)} [{_fmt(c.qwk.low)}, {_fmt(c.qwk.high)}]  "
             f"Spearman {_fmt(c.spearman.value)}  exact {c.exact:.2f}  adjacent {c.adjacent:.2f}  bias {c.bias:+.2f}  "
             f"(humans: Spearman {_fmt(c.human_ceiling_spearman)})")
    for st in report.stability:
        _say(f"stability {st.criterion:<18} {st.runs} runs x {st.dialogues} calls: mean SD {st.mean_sd:.3f}, "
             f"all agree {st.all_agree:.0%}")
    _say(f"report: {written} and {written.with_suffix('.html')}")
    if args.baseline:
        baseline = EvalReport.model_validate_json(Path(args.baseline).read_text(encoding="utf-8"))
        worse = regressions(report, baseline)
        for line in worse:
            _say(f"REGRESSION {line}")
        if worse:
            return 1
    return 0


def _cmd_corrections(ctx: ServiceContext, args: argparse.Namespace) -> int:
    from service.corrections.export import corrections_as_labels
    from service.evaluation.labelled import dump_iceberg

    with ctx.sessions() as session:
        dialogues, skipped = corrections_as_labels(session)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_iceberg(dialogues), encoding="utf-8")
    labels = sum(len(r) for d in dialogues for r in d.ratings.values())
    _say(f"wrote {len(dialogues)} corrected calls ({labels} reviewer scores) to {out}"
         + (f"; skipped {skipped} (not assessable or transcript missing)" if skipped else ""))
    _say(f"measure agreement with: iceberg eval --format iceberg {out}")
    return 0


def _cmd_keys(ctx: ServiceContext, args: argparse.Namespace) -> int:
    from service.access import keys

    if args.keys_command == "create":
        try:
            with ctx.sessions.begin() as session:
                key = keys.create_key(session, args.name, args.role, args.team)
        except ValueError as error:
            _say(f"error: {error}")
            return 2
        print(key)
        _say(f"created a {args.role} key {key[:10]}… for {args.name!r}"
             + (f" (teams {', '.join(args.team)})" if args.team else "") + "; it is shown only now")
        return 0
    if args.keys_command == "revoke":
        with ctx.sessions.begin() as session:
            done = keys.revoke(session, args.id)
        _say(f"revoked key {args.id}" if done else f"error: no active key {args.id}")
        return 0 if done else 1
    with ctx.sessions() as session:
        for row in keys.list_keys(session):
            state = "revoked" if row.revoked_at else "active"
            teams = ",".join(row.teams or []) or "-"
            print(f"{row.id}\t{row.prefix}…\t{row.role}\t{teams}\t{state}\t{row.name}")
    return 0


def _announce_first_key(ctx: ServiceContext) -> None:
    """The embedded default's first start: an admin key, printed this once."""
    from service.access.keys import first_admin_key

    with ctx.sessions.begin() as session:
        key = first_admin_key(session)
    if key:
        _say("No API keys yet: created the first admin key (shown only now; keep it safe):")
        _say(f"    {key}")
        _say("Sign in to the pages with it, and create keys for others with `iceberg keys create`.")


def _cmd_serve(ctx: ServiceContext, args: argparse.Namespace) -> int:
    import uvicorn

    from service.web.app import create_app

    _announce_first_key(ctx)
    uvicorn.run(create_app(ctx, workers=not args.no_workers), host=args.host, port=args.port)
    return 0


def _cmd_worker(ctx: ServiceContext, args: argparse.Namespace) -> int:
    """Only the workers: another machine sharing the (PostgreSQL) database scores jobs from the same queue."""
    import signal

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (docker stop, the server stopping its workers): finish calls in flight

    signal.signal(signal.SIGTERM, stop)
    pool = ctx.start_workers(args.workers)
    _say(f"{pool.workers} worker(s) scoring batch jobs from {ctx.settings.sqlalchemy_url.split('://')[0]}; Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        ctx.stop_workers()


def _cmd_cases(ctx: ServiceContext, args: argparse.Namespace) -> int:
    if args.cases_command == "reindex":
        from service.cases.retrieval import CaseIndex

        report = CaseIndex(ctx.settings.chroma_dir).sync(ctx.cases)
        _say(f"cases: {report.added} added, {report.updated} updated, {report.removed} removed, "
             f"{report.unchanged} unchanged")
        return 0
    for match in ctx.case_index.search(args.query, k=args.k, program=args.program, mode=args.mode):
        print(f"{match.similarity:.3f}  {match.case_id}  {match.title}  ({match.reason})")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iceberg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("assess", help="score transcript files (JSON or plain text) and store the assessments")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--agent", help="agent id for files that do not name one (overrides the file's)")
    p.add_argument("--json", action="store_true", help="print the assessments as a JSON array on stdout")
    p.set_defaults(func=_cmd_assess)

    p = sub.add_parser("portrait", help="write portraits (HTML and JSON) from stored assessments")
    p.add_argument("agents", nargs="*", metavar="AGENT_ID", help="default: every assessed agent")
    p.add_argument("--out", default="iceberg-portraits")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--since", type=_day, help="only calls on or after this date (YYYY-MM-DD)")
    p.add_argument("--until", type=_day, help="only calls on or before this date (YYYY-MM-DD)")
    p.set_defaults(func=_cmd_portrait)

    p = sub.add_parser("demo", help="score the bundled examples and write portraits and a team page")
    p.add_argument("--out", default="iceberg-demo")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("eval", help="measure agreement with human ratings on a labelled set")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=["stc3", "iceberg"], required=True)
    p.add_argument("--sample", type=int, help="score a seeded random sample of N dialogues")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="iceberg-eval")
    p.add_argument("--mapping", help="label-to-criterion mapping (default: rubrics/eval/stc3.yaml for stc3; "
                   "for iceberg, labels named after criteria)")
    p.add_argument("--baseline", help="an earlier report.json: exit 1 when a metric falls below its interval")
    p.add_argument("--repeat", type=int, default=1,
                   help="stability: score each call this many times in all, cache bypassed for the extra runs")
    p.add_argument("--repeat-sample", type=int, default=20, help="how many calls the stability runs cover")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("corrections", help="reviewer corrections")
    corr_sub = p.add_subparsers(dest="corrections_command", required=True)
    q = corr_sub.add_parser("export", help="write every reviewer's corrections as a labelled set (JSON lines)")
    q.add_argument("--out", default="corrections.jsonl")
    p.set_defaults(func=_cmd_corrections)

    p = sub.add_parser("serve", help="run the HTTP API and pages")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-workers", action="store_true", help="serve only; batch jobs are scored by `iceberg worker`")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("keys", help="API keys: create (shown once), list, revoke")
    keys_sub = p.add_subparsers(dest="keys_command", required=True)
    q = keys_sub.add_parser("create", help="print a new key on stdout")
    q.add_argument("--role", required=True, choices=["platform", "reviewer", "supervisor", "admin"])
    q.add_argument("--name", required=True, help="who or what holds it, e.g. 'QA platform' or a person's name")
    q.add_argument("--team", action="append", default=[], help="a team a supervisor reads (repeat for several)")
    keys_sub.add_parser("list", help="id, prefix, role, teams, state, name")
    q = keys_sub.add_parser("revoke")
    q.add_argument("id", type=int)
    p.set_defaults(func=_cmd_keys)

    p = sub.add_parser("worker", help="score queued batch jobs (for machines beside the API server)")
    p.add_argument("--workers", type=int, help="threads (default: ICEBERG_BATCH_WORKERS or ICEBERG_LLM_CONCURRENCY)")
    p.set_defaults(func=_cmd_worker)

    p = sub.add_parser("cases", help="the training-case library")
    cases_sub = p.add_subparsers(dest="cases_command", required=True)
    cases_sub.add_parser("reindex", help="sync the vector index with knowledge/cases (changed cases only)")
    q = cases_sub.add_parser("search", help="find cases for a description of weak behaviour")
    q.add_argument("query")
    q.add_argument("-k", type=int, default=3)
    q.add_argument("--program", choices=["lead_goose", "forging_soul", "strengthening_base", "leaving_tail"])
    q.add_argument("--mode", choices=["hybrid", "embedding", "keyword"], default="hybrid")
    p.set_defaults(func=_cmd_cases)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ctx = ServiceContext()
    try:
        return args.func(ctx, args)
    except (RubricError, CaseError, WeightsError, LocalServerError) as error:
        _say(f"error: {error}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted: what was scored so far is stored")
        return 130
    finally:
        from service.llm.provider import stop_local_servers

        stop_local_servers()


if __name__ == "__main__":
    sys.exit(main())
