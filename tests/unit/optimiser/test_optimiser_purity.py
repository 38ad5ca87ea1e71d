import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def test_the_optimiser_imports_no_web_database_or_http_library():
    # A fresh interpreter, so imports made by other tests cannot hide a leak.
    code = (
        "import sys\n"
        "import services.roadmap.optimiser, services.roadmap.cli\n"
        "leaked = sorted(m for m in ('litestar', 'asyncpg', 'httpx') if m in sys.modules)\n"
        "print(','.join(leaked))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
