"""Write the relay's OpenAPI document to docs/openapi.json (run after changing the API).

python scripts/export_openapi.py          # regenerate
python scripts/export_openapi.py --check  # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "openapi.json"


def current_openapi() -> dict[str, Any]:
    from fulcrum.server import create_app
    from fulcrum.server.routes import ROLE_ROUTERS
    from fulcrum.server.settings import ServerSettings

    with tempfile.TemporaryDirectory() as tmp:
        settings = ServerSettings.model_validate(
            {"data_dir": Path(tmp), "roles": tuple(ROLE_ROUTERS), "environment": "development"}
        )
        app = create_app(settings)
        try:
            return app.openapi()
        finally:
            app.state.fulcrum.db.dispose()


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render(current_openapi())
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run python scripts/export_openapi.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
