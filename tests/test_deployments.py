"""Several deployments behind litellm's Router: a failing deployment is skipped, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from service.config import Settings
from service.context import ServiceContext
from service.llm.deployments import DeploymentsError, load_deployments
from service.storage.tables import ModelCallRow
from service.transcripts.parsing import load_transcript_file
from tests.conftest import EXAMPLES
from tests.scripted_llm import ScriptedLLM


def _write(path: Path, *servers: ScriptedLLM) -> Path:
    path.write_text(yaml.safe_dump({
        "model_name": "scorer",
        "deployments": [{"litellm_params": {"model": "openai/scripted", "api_base": s.api_base, "api_key": "sk-x"},
                         "rpm": 600} for s in servers],
        "router_settings": {"cooldown_time": 60},
    }), encoding="utf-8")
    return path


def test_a_failing_deployment_is_skipped(tmp_path: Path) -> None:
    broken, healthy = ScriptedLLM(), ScriptedLLM()
    broken.handler = lambda r: (500, {"error": {"message": "GPU fell over"}}, {})
    try:
        settings = Settings(data_dir=tmp_path / "data", llm_deployments=_write(tmp_path / "d.yaml", broken, healthy),
                            llm_max_attempts=2, llm_backoff_s=0.01)
        ctx = ServiceContext(settings)
        files = sorted(EXAMPLES.glob("*"))[:4]
        results = [ctx.assessor.assess(load_transcript_file(f)) for f in files]
        assert all(a.status == "scored" for a in results), [a.error for a in results]
        assert all(a.model == "router/scorer" for a in results)
        assert len(healthy.requests) == 4
        with ctx.sessions() as session:
            outcomes = [c.outcome for c in session.scalars(select(ModelCallRow))]
            assert outcomes.count("ok") == 4 and outcomes.count("error") <= 1  # at most the first hit, then cooled down
    finally:
        broken.close()
        healthy.close()


def test_bad_deployments_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("model_name: scorer\ndeployments:\n  - litellm_params: {api_base: 'http://x'}\n", encoding="utf-8")
    with pytest.raises(DeploymentsError, match=r"deployments.0.litellm_params.model: Field required"):
        load_deployments(path)
    path.write_text("model_name: scorer\ndeployments: []\n", encoding="utf-8")
    with pytest.raises(DeploymentsError, match="field deployments"):
        load_deployments(path)
