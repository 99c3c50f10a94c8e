"""Screenshots of the interactive page for the README (run by docs/make-images.sh).

  docs/interactive-question.png  examples/question.yaml after moving w21 to 2.5, a12 clicked
  docs/interactive-mazur.png     examples/mazur.yaml four steps into backprop

Usage: .venv/bin/python docs/interactive_shots.py [CHROMIUM]   (default /usr/bin/chromium)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from pathgrad.render.interactive import page
from pathgrad.spec import load

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def main() -> None:
    chromium = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        shots = [
            ("question.yaml", "w11", "interactive-question.png",
             lambda tab: (tab.fill('input[data-leaf="w21"]', "2.5"),
                          tab.click('g.node[data-name="a12"]'))),
            ("mazur.yaml", "w1_1_1", "interactive-mazur.png",
             lambda tab: [tab.click("#step-next") for _ in range(4)]),
        ]
        for example, weight, name, act in shots:
            target = Path(tmp) / f"{example}.html"
            target.write_text(page(load(ROOT / "examples" / example), weight), encoding="utf-8")
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(target.as_uri())
            tab.wait_for_function("window.pathgradPage !== undefined")
            act(tab)
            tab.evaluate("() => window.scrollTo(0, 0)")
            tab.screenshot(path=str(DOCS / name))
            tab.close()
            print(f"wrote docs/{name}")
        browser.close()


if __name__ == "__main__":
    main()
