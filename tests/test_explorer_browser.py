"""The browser front end for real: `optiscape explore --browser` in headless Chromium.

Starts the WebAgg server on a free port of 127.0.0.1, loads the page in Debian's
`chromium` through `chromium-driver` (selenium pointed at the system browser,
nothing downloaded), checks the figure is drawn and that a click on the canvas
moves the start on the server. Slow (CI): about 20 s.
"""

from __future__ import annotations

import io
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,1000",
)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """`optiscape explore --browser` in a subprocess; its stdout read by a thread."""

    def __init__(self, port: int, cwd: Path):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scenes.cli", "explore", "--browser", "--port",
             str(port), "--no-open", "--steps", "80", "--optimizer",
             "Adam(learning_rate=0.05)", "--optimizer",
             "SGD(learning_rate=0.001, momentum=0.9)"],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"server never printed {pattern!r}; it printed {seen}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists(), "install Debian's chromium (./run setup does)"
    assert Path(DRIVER).exists(), "install Debian's chromium-driver (./run setup)"
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not download
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


def _screenshot(driver) -> np.ndarray:
    from PIL import Image

    png = driver.get_screenshot_as_png()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_browser_shows_the_explorer_and_a_click_moves_the_start(tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server = _Server(_free_port(), tmp_path)
    driver = None
    try:
        url = server.wait_for(r"serving at (http://127\.0\.0\.1:\d+/\d+)", 120)[1]
        driver = _browser(tmp_path / "profile")
        driver.get(url)
        canvas = WebDriverWait(driver, 60).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "canvas.mpl-canvas")
        )
        deadline = time.monotonic() + 60
        while True:  # the first frame arrives over the websocket
            image = _screenshot(driver)
            colours = len(np.unique(image.reshape(-1, 3)[::7], axis=0))
            if colours > 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert image.std() > 20, "the page is blank"
        assert colours > 200, f"only {colours} colours: the figure is not drawn"
        shot = os.environ.get("OPTISCAPE_EXPLORER_SCREENSHOT")
        if shot:
            Path(shot).write_bytes(driver.get_screenshot_as_png())
        # The landscape spans x in [0.045, 0.455] and y in [0.33, 0.95] of the
        # figure (from the bottom); click at (0.2, 0.6), i.e. 40% from the top.
        width, height = canvas.size["width"], canvas.size["height"]
        dx, dy = (0.2 - 0.5) * width, (0.5 - 0.6) * height
        ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).click(
        ).perform()  # fmt: skip
        match = server.wait_for(r"explore: starts \(([-\d.e]+), ([-\d.e]+)\)", 60)
        x, y = float(match[1]), float(match[2])
        # Rosenbrock's view is [-2, 2] x [-1, 3]: the click lands inside it.
        assert -2 < x < 2
        assert -1 < y < 3
        assert (x, y) != (-1.2, 1.0)
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
