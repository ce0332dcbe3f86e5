"""A Chinese font for the browser tests' screenshots (without one, Chromium draws every 汉字 as a box).

Installed with apt-get (``fonts-wqy-microhei``) when fontconfig knows no Chinese font and we run as root;
elsewhere the screenshots stay unreadable but the tests themselves do not depend on glyphs.
"""

from __future__ import annotations

import os
import shutil
import subprocess

PACKAGE = "fonts-wqy-microhei"


def has_chinese_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    result = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=60, check=False)
    return bool(result.stdout.strip())


def ensure_chinese_font() -> bool:
    """True when a Chinese font is available, installing one if it can."""
    if has_chinese_font():
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (
            ["apt-get", "install", "-y", PACKAGE],
            ["apt-get", "update"],
            ["apt-get", "install", "-y", PACKAGE],
        ):
            if has_chinese_font():
                break
            try:
                subprocess.run(command, env=env, capture_output=True, timeout=1200, check=False)
            except (OSError, subprocess.TimeoutExpired):
                break
    return has_chinese_font()
