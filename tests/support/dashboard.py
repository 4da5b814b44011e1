"""A real headless Chromium (Debian's `chromium`) on Dashboard 2 pages, driven by Playwright.

Playwright only drives the browser: it never downloads one (`executable_path` is the system
Chromium; CI installs it with apt). Every wait is on the page itself (a selector, a text, a
chart's data) with a timeout, never a sleep.

Charts: Dashboard 2 registers each chart component in `window.uiCharts[<node id>]` when
`window.Cypress` is set (the hook its own Cypress tests use); the page sets it before the
dashboard's scripts run, so a test can read the points the chart draws (eCharts paints on a
canvas, which has no DOM to look at).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

#: Screenshots of the test run (gitignored); docs/NODE_RED.md says how to refresh docs/images.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WAIT_MS = 15_000
VIEWPORT = {"width": 1100, "height": 640}
#: Points per series of a chart, by series name (the model), or null before it is mounted.
_CHART_POINTS = """id => {
    const c = window.uiCharts && window.uiCharts[id];
    if (!c || !c.chart) { return null; }
    const chart = c.chart.value || c.chart;
    const series = chart.getOption().series || [];
    return Object.fromEntries(series.map(s => [s.name, (s.data || []).length]));
}"""


def require_chromium() -> str:
    """The system Chromium's path; skips the test when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found is not None:
            return found
    pytest.skip("chromium is not installed (apt-get install chromium, or run .ci/run)")


@contextlib.asynccontextmanager
async def headless_chromium() -> AsyncIterator[Browser]:
    """The system Chromium, headless, for the block."""
    executable = require_chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class DashboardPage:
    """One Dashboard 2 page in its own browser context."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(cls, browser: Browser, url: str) -> AsyncIterator[DashboardPage]:
        """`url` in a fresh context (no state shared with other tests), closed after the block."""
        context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        try:
            page = await context.new_page()
            await page.add_init_script("window.Cypress = true;")
            await page.goto(url)
            yield cls(page)
        finally:
            await context.close()

    def widget(self, node_id: str) -> Locator:
        """The widget of a Dashboard 2 node on the page."""
        return self.page.locator(f"#nrdb-ui-widget-{node_id}")

    async def shows(self, node_id: str, text: str, within_ms: int = WAIT_MS) -> None:
        """Wait until the widget's text contains `text`."""
        await expect(self.widget(node_id)).to_contain_text(text, timeout=within_ms)

    async def choose(self, node_id: str, option: str) -> None:
        """Open a dropdown and pick the option labelled exactly `option`."""
        await self.widget(node_id).locator(".v-field").click()
        item = self.page.get_by_role("option", name=option, exact=True)
        await item.click(timeout=WAIT_MS)
        await expect(item).to_be_hidden(timeout=WAIT_MS)  # the menu closed: the choice is sent

    async def options(self, node_id: str) -> list[str]:
        """The labels a dropdown offers (opens and closes its menu)."""
        await self.widget(node_id).locator(".v-field").click()
        items = self.page.get_by_role("option")
        await expect(items.first).to_be_visible(timeout=WAIT_MS)
        labels = [label.strip() for label in await items.all_inner_texts()]
        await self.page.keyboard.press("Escape")
        await expect(items.first).to_be_hidden(timeout=WAIT_MS)
        return labels

    async def chart_points(self, chart_id: str, series: str) -> int:
        """How many points the chart draws in `series` now (0 before it has any)."""
        points: dict[str, int] | None = await self.page.evaluate(_CHART_POINTS, chart_id)
        return (points or {}).get(series, 0)

    async def wait_points(
        self, chart_id: str, series: str, count: int, within_ms: int = WAIT_MS
    ) -> None:
        """Wait until the chart draws exactly `count` points in `series`."""
        js = f"([id, s, n]) => {{ const p = ({_CHART_POINTS})(id); return !!p && p[s] === n; }}"
        try:
            await self.page.wait_for_function(js, arg=[chart_id, series, count], timeout=within_ms)
        except PlaywrightTimeout:
            seen = await self.chart_points(chart_id, series)
            raise AssertionError(f"{chart_id} {series}: {seen} points, not {count}") from None

    async def screenshot(self, name: str) -> Path:
        """Save the whole page as build/screenshots/<name>.png (a test artifact)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=path, full_page=True)
        return path
