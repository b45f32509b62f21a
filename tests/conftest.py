from __future__ import annotations

import os
import shutil
import uuid
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from service.config import PROJECT_ROOT, Settings
from service.context import ServiceContext
from tests.scripted_llm import ScriptedLLM

EXAMPLES = PROJECT_ROOT / "examples" / "transcripts"
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture
def scripted_llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    yield server
    server.close()


@pytest.fixture
def settings(tmp_path: Path, scripted_llm: ScriptedLLM) -> Settings:
    """Embedded defaults in a temporary data folder, with the scripted model standing in for the LLM."""
    return Settings(
        data_dir=tmp_path / "data",
        llm_model="openai/scripted",
        llm_api_base=scripted_llm.api_base,
        llm_api_key="sk-test",
        llm_timeout_s=10,
        llm_max_attempts=3,
        llm_backoff_s=0.01,
    )


@pytest.fixture
def context(settings: Settings) -> ServiceContext:
    return ServiceContext(settings)


@pytest.fixture
def rubrics_copy(tmp_path: Path) -> Path:
    """A writable copy of the rubric folder for tests that break it on purpose."""
    target = tmp_path / "rubrics"
    shutil.copytree(PROJECT_ROOT / "rubrics", target)
    return target


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn on a free loopback port; yields the base URL."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


PG_ADMIN_URL = os.environ.get("ICEBERG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards; skips, saying why, without a server."""
    try:
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # no driver, no server, no access: all mean "cannot test PostgreSQL here"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(error).__name__}); set ICEBERG_TEST_PG")
    name = f"iceberg_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_key(context: ServiceContext, role: str = "admin", teams: list[str] | None = None, name: str = "test") -> str:
    from service.access.keys import create_key

    with context.sessions.begin() as session:
        return create_key(session, name, role, teams)  # type: ignore[arg-type]


def api_client(url: str, context: ServiceContext, role: str = "admin", teams: list[str] | None = None,
               name: str = "test") -> Any:
    """An httpx client holding a fresh key of ``role``."""
    import httpx

    key = make_key(context, role, teams, name)
    return httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}"})
