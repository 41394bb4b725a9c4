"""Headless Chromium for the report: the rendered DOM (tests) and screenshots (docs).

Debian's ``chromium`` package (``make system-deps`` installs it). The page is opened as a
``file:`` URL with networking left unused: the report needs none.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_TIMEOUT_S = 120.0
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-sync", "--hide-scrollbars", "--mute-audio")


class BrowserError(RuntimeError):
    """No browser was found, or it failed to render the page; the message says which."""


def find_browser() -> str | None:
    """The path of the first Chromium-family browser on PATH."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(page: Path, *flags: str, fragment: str = "") -> str:
    browser = find_browser()
    if browser is None:
        raise BrowserError("no Chromium found on PATH: install Debian's chromium (make system-deps)")
    with tempfile.TemporaryDirectory(prefix="adsent-chromium-") as profile:
        url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
        command = [browser, *FLAGS, f"--user-data-dir={profile}", *flags, url]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise BrowserError(f"{browser} did not render {page} within {BROWSER_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0:
        raise BrowserError(f"{browser} exited {done.returncode} rendering {page}: {done.stderr.strip()[-800:]}")
    return done.stdout


def rendered_dom(page: Path, fragment: str = "") -> str:
    """The DOM after Chromium loaded and laid out ``page`` (at ``#fragment``), serialised as HTML."""
    return _run(page, "--dump-dom", fragment=fragment)


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 1600, colors: int | None = 256) -> Path:
    """A PNG of the top ``width`` x ``height`` pixels of ``page``; with ``colors``, reduced to a palette of
    that many colours (a third of the bytes for a page of text, tables and two photos)."""
    from PIL import Image

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    _run(page, f"--screenshot={out}", f"--window-size={width},{height}")
    if not out.is_file():
        raise BrowserError(f"Chromium wrote no screenshot to {out}")
    if colors:
        with Image.open(out) as shot:
            palette = shot.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                                   dither=Image.Dither.NONE)
        palette.save(out, optimize=True)
    return out
