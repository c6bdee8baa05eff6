"""The whole suite keeps the shared cache of expected values (grader.expected.shared_cache) in a folder
of its own, never in the user's ~/.cache; `grader run` processes the tests start inherit it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["GRADER_CACHE"] = tempfile.mkdtemp(prefix="grader-test-cache-")
atexit.register(shutil.rmtree, os.environ["GRADER_CACHE"], True)
