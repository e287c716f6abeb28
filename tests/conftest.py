"""Puts the Lambda code on the path the way Lambda does (the layer under /opt/python, the repo for local/)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "hub" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# never reach a real AWS account from tests, whatever the machine's environment holds
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "erphub")
