"""config/business.json, the committed business configuration: validate it, keep template.yaml's
BusinessConfigParameter holding the same document (what `sam deploy` publishes), and publish an edit to a
deployed stack's parameter without a deploy.

    python -m tools.business_config            # validate the file, copy it into template.source.yaml, regenerate
    python -m tools.business_config --check    # fail if template.yaml does not hold the file's content
    python -m tools.business_config publish --stage prod   # validate, then put the parameter (no deploy)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "hub" / "python"))  # the layer, as local/schemas.py reaches it
from erphub.business_config import BusinessConfigInvalid, parse  # noqa: E402

SOURCE = ROOT / "config" / "business.json"
TEMPLATE = ROOT / "template.yaml"
TEMPLATE_SOURCE = ROOT / "template.source.yaml"  # template.yaml is generated from it (tools/template_source.py)
# the template's block that holds the document verbatim: a YAML literal block under BusinessConfigParameter
HEADER = "      Value: |  # config/business.json, verbatim (make config)\n"
INDENT = " " * 8
STANDARD_PARAMETER_LIMIT = 4096  # bytes of a Standard-tier SSM parameter value


def document(source: Path = SOURCE) -> str:
    """The file's text once it validates (BusinessConfigInvalid otherwise) and fits one Standard parameter."""
    text = source.read_text()
    parse(text)
    if len(text.encode()) > STANDARD_PARAMETER_LIMIT:
        raise BusinessConfigInvalid(f"{len(text.encode())} bytes exceed a Standard SSM parameter's "
                                    f"{STANDARD_PARAMETER_LIMIT}: use Tier: Advanced in template.yaml")
    return text


def _block(template_text: str) -> tuple[int, int]:
    """Start and end offsets of the block's lines in the template text."""
    start = template_text.find(HEADER)
    if start < 0:
        raise SystemExit(f"template.yaml has no line {HEADER.strip()!r} under BusinessConfigParameter")
    begin = end = start + len(HEADER)
    for line in template_text[begin:].splitlines(keepends=True):
        if not (line.startswith(INDENT) or line.strip() == ""):
            break
        end += len(line)
    return begin, end


def template_value(template: Path = TEMPLATE) -> str:
    """The document the template holds, as YAML reads the literal block."""
    text = template.read_text()
    begin, end = _block(text)
    lines = text[begin:end].rstrip("\n").split("\n")
    return "".join(line[len(INDENT):] + "\n" for line in lines)


def write_template(template: Path = TEMPLATE, source: Path = SOURCE) -> bool:
    """Put the file's document into the template; True when the template changed."""
    text, doc = template.read_text(), document(source)
    begin, end = _block(text)
    block = "".join(INDENT + line if line.strip() else "\n" for line in doc.splitlines(keepends=True))
    updated = text[:begin] + block + "\n" + text[end:].lstrip("\n")
    if updated != text:
        template.write_text(updated)
    return updated != text


def publish(stage: str, source: Path = SOURCE, region: str | None = None) -> int:
    """Validate, then overwrite /erphub/<stage>/business-config; functions read it within their cache age."""
    import boto3

    name = f"/erphub/{stage}/business-config"
    version = boto3.client("ssm", region_name=region).put_parameter(
        Name=name, Value=document(source), Type="String", Overwrite=True)["Version"]
    print(f"published {source.relative_to(ROOT) if source.is_relative_to(ROOT) else source} to {name} "
          f"(version {version})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if template.yaml is out of date")
    sub = parser.add_subparsers(dest="command")
    pub = sub.add_parser("publish", help="validate config/business.json and put it into a deployed stage")
    pub.add_argument("--stage", required=True)
    pub.add_argument("--region")
    pub.add_argument("--file", type=Path, default=SOURCE)
    args = parser.parse_args(argv)
    try:
        if args.command == "publish":
            return publish(args.stage, args.file, args.region)
        if args.check:
            if template_value() != document():
                print("template.yaml BusinessConfigParameter differs from config/business.json: "
                      "run `make config`")
                return 1
            return 0
        if write_template(TEMPLATE_SOURCE):
            from tools.template_source import render

            TEMPLATE.write_text(render(TEMPLATE_SOURCE.read_text()))
            print("wrote template.source.yaml and template.yaml")
        else:
            print("template.yaml is up to date")
        return 0
    except BusinessConfigInvalid as exc:
        print(f"config/business.json: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
