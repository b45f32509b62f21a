"""Rendering portraits and the team page to HTML. Autoescaped: transcript quotes are untrusted text."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from service.portraits.builder import QUADRANT_NAMES
from service.portraits.charts import iceberg, radar
from service.portraits.schemas import Portrait, TeamView


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("service.portraits", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
    )


def render_portrait(portrait: Portrait, team_href: str, agent_href: Callable[[str], str] | None = None,
                    call_href: Callable[[str], str] | None = None) -> str:
    """``agent_href`` links other agents (mentor pairs), ``call_href`` an assessment's own page; a written file
    without a server has neither."""
    axes = portrait.placement.axes
    return _environment().get_template("portrait.html").render(
        portrait=portrait, lang=portrait.lang, team_href=team_href, agent_href=agent_href or (lambda a: None),
        call_href=call_href or (lambda a: None),
        dimension_names={d.dimension: d.name for d in portrait.dimensions},
        radar=radar(portrait.dimensions),
        iceberg=iceberg(portrait.dimensions, axes["ability"].threshold, axes["cognition"].threshold),
        quadrant_names={q: v[portrait.lang] for q, v in QUADRANT_NAMES.items()},
    )


def render_team(team: TeamView, agent_href: Callable[[str], str]) -> str:
    names = {m.agent_id: m.agent_name or m.agent_id for m in team.members}
    points = [{"ability": m.ability, "cognition": m.cognition, "label": names[m.agent_id],
               "ability_interval": m.ability_interval, "cognition_interval": m.cognition_interval}
              for m in team.members]
    return _environment().get_template("team.html").render(
        team=team, lang=team.lang, agent_href=agent_href, names=names, points=points,
        quadrant_names={q: v[team.lang] for q, v in QUADRANT_NAMES.items()},
    )
