"""Rule 11: the template is the single source of truth. A function and route added to template.yaml, with
nothing else touched, is served by the local stack."""

from pathlib import Path

import pytest
import requests

from local.stack import HubStack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

EXTRA = """
  PingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/ping/
      Handler: app.lambda_handler
      Environment:
        Variables:
          GREETING: !Sub hello from ${Stage}
      Events:
        Ping:
          Type: Api
          Properties:
            RestApiId: !Ref WebhookApi
            Path: /ping/{name}
            Method: GET
"""

HANDLER = '''import json
from erphub.settings import get_settings
def lambda_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"greeting": get_settings().environment["GREETING"],
                                                   "name": event["pathParameters"]["name"]})}
'''


def test_a_route_added_to_the_template_is_served(tmp_path):
    # Given a copy of the project whose template gains one function with one route, and nothing else
    for entry in ("functions", "layers", "statemachines", "samconfig.toml", "local"):
        (tmp_path / entry).symlink_to(ROOT / entry)
    text = (ROOT / "template.yaml").read_text()
    (tmp_path / "template.yaml").write_text(text.replace("\nResources:\n", "\nResources:\n" + EXTRA, 1))
    handler_dir = tmp_path / "extra" / "ping"
    handler_dir.mkdir(parents=True)
    (handler_dir / "app.py").write_text(HANDLER)
    (tmp_path / "template.yaml").write_text(
        (tmp_path / "template.yaml").read_text().replace("CodeUri: functions/ping/", f"CodeUri: {handler_dir}/"))
    # When the local stack runs that template
    with HubStack(tmp_path / "template.yaml", sandbox=False, preload=False) as stack:
        response = requests.get(f"{stack.endpoints['gateway']}/ping/ada", timeout=10)
    # Then the new route answers from the new handler, with the environment the template gives it
    assert response.status_code == 200
    assert response.json() == {"greeting": "hello from local", "name": "ada"}
