"""The console end to end in headless Chromium against a real `serve`.

One walk through what a person does: sign in (a wrong key first), choose the
shared clips, submit, watch the progress bar, queue a second task and cancel it,
play the result beside the original, then submit a 590×590 clip and read its
error. A second, phone-sized page opens the finished task from the list.
With `VIDEORETALK_SCREENSHOTS=docs/screenshots` each step is photographed there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from servicekit import Service

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TASK_TIMEOUT_MS = 120_000


def _shoot(page: Any, folder: Path | None, name: str) -> None:
    if folder is not None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _sign_in(page: Any, key: str) -> None:
    page.fill("#api-key", key)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#workspace", state="visible")


def _task_status(page: Any) -> str:
    return str(page.text_content("#task-status"))


def _wait_status(page: Any, status: str, timeout: int = TASK_TIMEOUT_MS) -> None:
    page.wait_for_function(
        "s => document.getElementById('task-status').textContent === s", arg=status, timeout=timeout
    )


def test_console_walkthrough(
    browser: Any, console_service: Service, dev_dir: Path, screenshot_dir: Path | None
) -> None:
    key = console_service.create_key("console")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # Every answer of 400 or more must be one the walk asks for (the wrong key's 401).
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.goto(console_service.base + "/")

    # 1. Sign in: a wrong key is refused with its code, the right one opens the workspace.
    _shoot(page, screenshot_dir, "01-sign-in")
    page.fill("#api-key", "sk-not-a-key")
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#sign-in-error", state="visible")
    assert "InvalidApiKey" in page.text_content("#sign-in-error")
    assert len(problems) == 1 and problems[0].startswith("401 "), problems
    problems.clear()
    _sign_in(page, key)
    assert page.is_visible("#no-tasks")

    # 2. Choose the files and submit; the bar moves while the worker renders.
    page.set_input_files("#video-file", str(dev_dir / "talk2.mp4"))
    page.set_input_files("#audio-file", str(dev_dir / "speech1.wav"))
    assert "talk2.mp4" in page.text_content("[data-field=video] .zone-text")
    _shoot(page, screenshot_dir, "02-files-chosen")
    page.click("#submit")
    page.wait_for_function(
        "() => document.getElementById('task-status').textContent === 'RUNNING'"
        " && parseFloat(document.getElementById('progress-fill').style.width) > 10",
        timeout=60_000,
    )
    progress = page.text_content("#progress-text")
    assert "%" in progress, progress
    first = page.text_content("#task-id")
    page.wait_for_timeout(500)  # the bar's width eases in over 0.4 s
    _shoot(page, screenshot_dir, "03-running")

    # 3. A second task waits PENDING behind the first (one worker) and can be canceled.
    page.click("#submit")
    page.wait_for_function("id => document.getElementById('task-id').textContent !== id", arg=first)
    second = page.text_content("#task-id")
    row = page.locator(f"#task-list li[data-task-id='{second}']")
    row.get_by_role("button", name="Cancel").wait_for()
    _wait_status(page, "PENDING", timeout=10_000)
    _shoot(page, screenshot_dir, "04-task-list-pending")
    row.get_by_role("button", name="Cancel").click()
    _wait_status(page, "CANCELED", timeout=10_000)
    assert row.locator(".pill").text_content() == "CANCELED"

    # 4. The first task succeeds; its result plays beside the original.
    page.locator(f"#task-list li[data-task-id='{first}'] button.link").click()
    _wait_status(page, "SUCCEEDED")
    page.wait_for_function(
        "() => document.getElementById('result-video').readyState >= 3", timeout=30_000
    )
    playing = page.evaluate("""async () => {
        const v = document.getElementById('result-video');
        v.muted = true;
        await v.play();
        await new Promise(r => setTimeout(r, 600));
        v.pause();
        return {duration: v.duration, readyState: v.readyState, time: v.currentTime,
                width: v.videoWidth, height: v.videoHeight};
    }""")
    assert playing["duration"] == pytest.approx(5.0, abs=0.2), playing
    assert playing["readyState"] >= 2 and playing["time"] > 0.1, playing
    assert (playing["width"], playing["height"]) == (844, 844), playing
    assert page.is_visible("#original-video")
    assert page.get_attribute("#download", "href").startswith(console_service.base)
    page.evaluate("document.getElementById('result-video').currentTime = 2.5")
    page.evaluate("document.getElementById('original-video').currentTime = 2.5")
    _shoot(page, screenshot_dir, "05-succeeded")
    if screenshot_dir is not None:
        page.locator("#tasks").screenshot(path=str(screenshot_dir / "06-task-list.png"))

    # 5. A 590×590 clip fails with the DashScope code and a sentence saying what to fix.
    page.set_input_files("#video-file", str(dev_dir / "talk3.mp4"))
    page.click("#submit")
    page.wait_for_function("id => document.getElementById('task-id').textContent !== id", arg=first)
    _wait_status(page, "FAILED", timeout=60_000)
    error = page.text_content("#task-error")
    assert "InvalidFile.Resolution" in error and "590×590" in error, error
    assert "640–2048" in error, error
    _shoot(page, screenshot_dir, "07-error")
    assert not problems, problems
    context.close()

    # 6. On a phone-sized screen the same task opens from the list and still plays.
    phone = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    small = phone.new_page()
    small.goto(console_service.base + "/")
    _shoot(small, screenshot_dir, "08-phone-sign-in")
    _sign_in(small, key)
    small.locator(f"#task-list li[data-task-id='{first}'] button.link").click()
    _wait_status(small, "SUCCEEDED", timeout=10_000)
    small.wait_for_function(
        "() => document.getElementById('result-video').readyState >= 3", timeout=30_000
    )
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width} px wide on a {PHONE['width']} px screen"
    _shoot(small, screenshot_dir, "09-phone-result")
    phone.close()
