"""Settings, read from ``ICEBERG_*`` environment variables, every one with a working default.

The defaults are the embedded setup: SQLite and chromadb under ``ICEBERG_DATA_DIR`` and the bundled local model.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ICEBERG_", extra="ignore")

    data_dir: Path = Field(default=Path.home() / ".iceberg", description="Database, vector store and model cache.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in data_dir when unset.")

    # A litellm model name (e.g. "openai/gpt-4o-mini", "deepseek/deepseek-chat"). Unset: the bundled local model.
    llm_model: str | None = None
    llm_api_base: str | None = None
    llm_api_key: str | None = None
    llm_deployments: Path | None = Field(
        default=None, description="YAML file of several deployments used through litellm's Router (overrides llm_model)."
    )
    llm_timeout_s: float = 300.0
    llm_max_output_tokens: int = 700
    llm_context_tokens: int | None = Field(
        default=None, description="The model's input window; unset: the local server's, or litellm's model map."
    )
    llm_temperature: float = 0.0
    llm_max_attempts: int = Field(default=4, ge=1, description="Attempts per call on timeouts, 429 and 5xx.")
    llm_concurrency: int = Field(
        default=1, ge=1, le=64, description="Model calls in flight at once; the local server gets as many slots."
    )
    llm_samples: int = Field(default=1, ge=1, le=15, description="Self-consistency: samples per call, median taken.")
    llm_sample_temperature: float = Field(default=0.7, ge=0, le=2, description="Temperature when llm_samples > 1.")
    llm_logprob_scores: bool = Field(
        default=False, description="G-Eval: also record the probability-weighted score where logprobs are returned."
    )
    llm_backoff_s: float = Field(default=1.0, ge=0, description="First backoff; doubles per attempt.")

    batch_workers: int | None = Field(
        default=None, ge=1, le=256, description="Workers scoring batch jobs; unset: llm_concurrency."
    )
    batch_lease_s: float = Field(default=60.0, gt=0, description="A job whose worker is silent this long is taken again.")
    batch_processes: int = Field(
        default=1, ge=1, le=32,
        description="Processes sharing batch_workers under `iceberg serve` (a configured model only). Python runs "
                    "one thread at a time per process: against a fast model, one process cannot keep many calls "
                    "in flight.",
    )

    # Which bundled GGUF runs when llm_model is unset.
    local_model: str = "qwen2.5-coder-1.5b"
    local_threads: int = 0  # 0: all cores
    local_context: int = 8192
    local_speculative: bool = Field(default=True, description="n-gram (prompt lookup) speculative decoding.")

    prompts_dir: Path = PROJECT_ROOT / "prompts"
    rubrics_dir: Path = PROJECT_ROOT / "rubrics"
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    examples_dir: Path = PROJECT_ROOT / "examples"

    cases_per_portrait: int = 3

    def as_env(self) -> dict[str, str]:
        """These settings as ``ICEBERG_*`` variables: a child process started with them reads the same settings,
        whether they came from the environment or were set in code."""
        return {f"ICEBERG_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
                for name, value in self.model_dump().items() if value is not None}

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'iceberg.sqlite3'}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
