"""Placement and portrait rendering at the scale of a large contact center.

Synthetic: AGENTS agents in teams of 20, CALLS scored assessments each (the full rubric's ten criteria, seeded
random scores, a few unverified or flagged), spread over six months. Measured in the same run:

- baseline: a plain mean of each agent's scores (the least any aggregation must do);
- place: the current placement (window, weights, interval, drivers, compliance counts);
- history: one placement per month with hysteresis (what the portrait and the team page show);
- team: every team placed at once (histories, lines, "1+1" pairing), per agent;
- portrait: building the portrait from the team placement and rendering its HTML (no case retrieval; the case
  index has its own benchmark), per portrait.

Times are per agent (median of the per-agent times, and the total), as ratios to the baseline; peak memory is the
process' maximum resident set size.

    .venv/bin/python benchmarks/placement_scale.py [--agents 2000] [--calls 50] [--portraits 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.cases.library import load_programs  # noqa: E402
from service.config import PROJECT_ROOT  # noqa: E402
from service.placement.classifier import place  # noqa: E402
from service.placement.history import placement_history  # noqa: E402
from service.placement.team import place_team  # noqa: E402
from service.placement.window import select_window  # noqa: E402
from service.portraits.builder import PortraitBuilder  # noqa: E402
from service.portraits.rendering import render_portrait  # noqa: E402
from service.rubrics.loader import load_rubric  # noqa: E402
from service.rubrics.schemas import Rubric  # noqa: E402
from service.scoring.schemas import Assessment, ComplianceFlag, CriterionScore, Evidence  # noqa: E402

TEAM_SIZE = 20
START = datetime(2026, 6, 1, 9, tzinfo=timezone(timedelta(hours=8)))


def synthetic(agents: int, calls: int, rubric: Rubric, seed: int = 11) -> dict[str, list[Assessment]]:
    rng = random.Random(seed)
    data: dict[str, list[Assessment]] = {}
    for a in range(agents):
        agent = f"A{a:05d}"
        level = rng.uniform(1.5, 4.5)  # each agent has a typical level; calls scatter around it
        items = []
        for n in range(calls):
            scores = []
            for criterion in rubric.criteria:
                value = None if criterion.source == "notes" and rng.random() < 0.7 else \
                    max(1, min(5, round(rng.gauss(level, 0.9))))
                unverified = value is not None and rng.random() < 0.05
                scores.append(CriterionScore(
                    criterion_id=criterion.id, dimension=criterion.dimension, score=value, rationale="合成",
                    evidence=[Evidence(turn=2, quote="您好，请问有什么可以帮您？",
                                       status="unverified" if unverified else "verified")] if value else [],
                    needs_review=unverified, source="synthetic"))
            flags = [ComplianceFlag(item_id="full_card_number_read", turn=3, quote="卡号", status="verified",
                                    source="rule:card")] if rng.random() < 0.02 else []
            items.append(Assessment(
                id=f"{agent}-{n:03d}", transcript_id=f"{agent}-call-{n:03d}", agent_id=agent, agent_name=f"坐席{a}",
                team_id=f"T{a // TEAM_SIZE:03d}", call_time=START + timedelta(hours=rng.uniform(0, 24 * 180)),
                status="scored", rubric_version=rubric.version, prompt_version="p", model="synthetic",
                scores=scores, confidence=1.0, compliance_flags=flags, created_at=START,
            ))
        data[agent] = items
    return data


def _per_agent(function, items) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for item in items:
        started = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _summary(times: list[float], baseline_median: float) -> dict[str, float]:
    median = statistics.median(times)
    return {"median_ms": round(median, 3), "p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))], 3),
            "total_s": round(sum(times) / 1000, 2), "ratio_to_baseline": round(median / baseline_median, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--portraits", type=int, default=2000, help="how many of the agents get a rendered portrait")
    args = parser.parse_args()

    rubric = load_rubric(PROJECT_ROOT / "rubrics")
    programs = load_programs(PROJECT_ROOT / "knowledge" / "programs.yaml")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    data = synthetic(args.agents, args.calls, rubric)
    generated_s = time.perf_counter() - started
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def baseline(agent: str) -> float:
        values = [s.score for a in data[agent] for s in a.scores if s.score is not None]
        return sum(values) / len(values)

    agents = sorted(data)
    base = _per_agent(baseline, agents)
    base_median = statistics.median(base)
    window = rubric.model.placement.window
    current = _per_agent(lambda a: place(a, select_window(data[a], window), rubric), agents)
    history = _per_agent(lambda a: placement_history(a, data[a], rubric), agents)

    teams: dict[str, dict[str, list[Assessment]]] = {}
    for agent in agents:
        teams.setdefault(data[agent][0].team_id or "", {})[agent] = data[agent]
    placed = {}
    team_times = []
    for team_id, members in sorted(teams.items()):
        t0 = time.perf_counter()
        placed[team_id] = place_team(members, rubric)
        team_times.extend([(time.perf_counter() - t0) * 1000 / len(members)] * len(members))

    builder = PortraitBuilder(rubric, programs, case_index=None)
    names = {a: data[a][0].agent_name for a in agents}

    def portrait(agent: str) -> None:
        team_id = data[agent][0].team_id or ""
        built = builder.build(agent, data[agent], "zh", placed[team_id], names)
        render_portrait(built, team_href="../team.html")

    portraits = _per_agent(portrait, agents[: args.portraits])
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    quadrants: dict[str, int] = {}
    for team in placed.values():
        for agent_id in team.histories:
            q = team.current(agent_id).quadrant or "not_yet_placeable"  # type: ignore[union-attr]
            quadrants[q] = quadrants.get(q, 0) + 1

    print(json.dumps({
        "agents": args.agents, "calls_per_agent": args.calls, "teams": len(teams), "portraits": args.portraits,
        "baseline_plain_mean": {"median_ms": round(base_median, 3), "total_s": round(sum(base) / 1000, 2)},
        "place_current": _summary(current, base_median),
        "placement_history": _summary(history, base_median),
        "team_per_agent": _summary(team_times, base_median),
        "portrait_build_and_render": _summary(portraits, base_median),
        "targets": {"placement_ms_per_agent": 5, "portrait_ms": 50},
        "peak_rss_mb": {"start": round(rss_before / 1024), "with_data": round(rss_data / 1024),
                        "end": round(rss_after / 1024)},
        "synthetic_data_s": round(generated_s, 1),
        "quadrants": dict(sorted(quadrants.items())),
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
