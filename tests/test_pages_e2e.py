"""The pages end to end in a real headless Chromium (Debian's package, driven by Playwright): sign in, submit a
transcript, watch it scored, read the evidence marked in the transcript, correct a score, read the portrait.

Skipped, saying why, where Chromium or Playwright is not installed (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.context import ServiceContext
from service.transcripts.parsing import load_transcript_file
from service.web.app import create_app
from tests.conftest import EXAMPLES, live_server, make_key
from tests.scripted_llm import ScriptedLLM

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")

CALL = """坐席：您好，星河银行，请问有什么可以帮您？
客户：我的信用卡被盗刷了一笔，怎么办？
坐席：请您别着急，我先帮您冻结这张卡，再为您登记争议交易。
客户：好的，谢谢。"""


def test_reviewer_and_supervisor_in_a_real_browser(context: ServiceContext, scripted_llm: ScriptedLLM,
                                                   tmp_path: Path) -> None:
    for path in sorted(EXAMPLES.glob("C1*")):
        context.assessor.assess(load_transcript_file(path))
    reviewer = make_key(context, "reviewer", name="李质检")
    supervisor = make_key(context, "supervisor", ["T01"], name="王主管")
    with live_server(create_app(context, workers=True)) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()

        page.goto(f"{url}/submit")
        assert "/signin" in page.url  # strangers are sent to sign in
        page.fill("#key", reviewer)
        page.click("button[type=submit]")
        assert page.url.endswith("/submit")

        page.fill("#transcript_id", "E2E-1")
        page.fill("#agent_id", "A001")
        page.fill("#agent_name", "王晓雯")
        page.fill("#team_id", "T01")
        page.fill("#text", CALL)
        page.click("button[type=submit]")
        page.wait_for_selector("text=查看评估", timeout=30_000)  # the page refreshes itself until scored
        page.click("text=查看评估")

        assert page.locator("li.turn").count() == 4
        marked = page.locator("#turn-1 mark")
        assert marked.count() >= 1 and "您好" in marked.first.inner_text()
        section = page.locator("#criterion-logic")
        section.locator("select[name=score]").select_option("5")
        section.locator("input[name=comment]").fill("解释清楚，顺序合理")
        section.locator("button[type=submit]").click()
        page.wait_for_selector("#criterion-logic >> text=复核人 李质检")
        assert "解释清楚，顺序合理" in page.locator("table").last.inner_text()

        # a bad submission is shown again with what to fix, nothing lost
        page.goto(f"{url}/submit")
        page.fill("#transcript_id", "E2E-2")
        page.fill("#agent_id", "A001")
        page.fill("#text", "这一行没有说话人")
        page.click("button[type=submit]")
        assert "line 1: expected a turn" in page.locator("[role=alert]").inner_text()
        assert page.input_value("#text") == "这一行没有说话人"

        other = browser.new_context().new_page()
        other.goto(f"{url}/agents/A001")
        other.fill("#key", supervisor)
        other.click("button[type=submit]")
        assert other.locator("h1").first.inner_text().startswith("王晓雯")
        assert other.locator("svg[aria-label=维度雷达图]").count() == 1
        other.screenshot(path=str(tmp_path / "portrait.png"), full_page=True)
        assert (tmp_path / "portrait.png").stat().st_size > 10_000
        browser.close()
