"""Writing portraits and the team page to a folder: ``team.html`` and ``agents/<agent_id>.html`` / ``.json``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from service.context import ServiceContext
from service.placement.window import DateRange
from service.portraits.rendering import render_portrait, render_team
from service.portraits.schemas import Portrait

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def agent_filename(agent_id: str) -> str:
    """Agent ids come from callers: keep them from escaping the output folder."""
    return _SAFE.sub("_", agent_id) or "_"


def write_portraits(
    ctx: ServiceContext, out: Path, agent_ids: list[str] | None = None, lang: str = "zh", dates: DateRange | None = None
) -> list[Portrait]:
    agents_dir = out / "agents"
    agents_dir.mkdir(parents=True, exist_ok=True)
    ids = agent_ids or [agent for agent, _ in ctx.agents()]
    portraits = ctx.portraits(ids, lang, dates)
    for portrait in portraits:
        name = agent_filename(portrait.agent_id)
        (agents_dir / f"{name}.json").write_text(
            json.dumps(portrait.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (agents_dir / f"{name}.html").write_text(render_portrait(
            portrait, team_href="../team.html", agent_href=lambda a: f"{agent_filename(a)}.html"), encoding="utf-8")
    teams = {p.team_id for p in portraits}
    view = ctx.team(teams.pop() if len(teams) == 1 else None, lang, dates)
    (out / "team.html").write_text(
        render_team(view, agent_href=lambda a: f"agents/{agent_filename(a)}.html"), encoding="utf-8"
    )
    return portraits
