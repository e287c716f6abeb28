"""template.yaml is generated from template.source.yaml, where a resource block that repeats is written once in a
loop; everything else passes through verbatim (comments, short-form tags, order). CloudFormation's own loop
(`AWS::LanguageExtensions` `Fn::ForEach`) was the first choice, but checkov 3.3.30 does not expand it: the
looped queues and alarms would go unscanned. So the plain template every tool reads is what this writes.

A loop in the source (rows are a YAML list of lists, one value per name; `${Name}` in the body is replaced):

      #@ for Queue, Timeout in:
      #@   - [Activation, 180]
      #@   - [Amendment, 180]
      #@ do
      ${Queue}Queue:
        Type: AWS::SQS::Queue
        Properties: {VisibilityTimeout: ${Timeout}}
      #@ end

`#@#` lines are comments that stay in the source.

    python -m tools.template_source            # write template.yaml (make template)
    python -m tools.template_source --check    # fail if template.yaml is not what the source makes
"""

from __future__ import annotations

import re
import sys

import yaml

from tools.generated import ROOT, main

SOURCE = ROOT / "template.source.yaml"
TEMPLATE = ROOT / "template.yaml"
HEADER = ("# GENERATED from template.source.yaml by `make template`: edit that file, not this one (a unit test fails\n"
          "# when they differ). Loops there write each repeated block once.\n")
FOR = re.compile(r"^\s*#@ for (?P<names>[A-Za-z][A-Za-z0-9]*(?:, *[A-Za-z][A-Za-z0-9]*)*) in:\s*$")


class SourceError(ValueError):
    """The source's loop markup is malformed; the message names the line."""


def render(source: str) -> str:
    lines, out, n = source.splitlines(keepends=True), [HEADER], 0
    while n < len(lines):
        found = FOR.match(lines[n])
        if not found:
            if lines[n].lstrip().startswith("#@#"):  # a comment for readers of the source only
                n += 1
                continue
            if lines[n].lstrip().startswith("#@"):
                raise SourceError(f"line {n + 1}: `{lines[n].strip()}` outside a loop")
            out.append(lines[n])
            n += 1
            continue
        names = [name.strip() for name in found["names"].split(",")]
        rows, body, n = _loop(lines, n + 1, len(names))
        for row in rows:
            text = "".join(body)
            for name, value in zip(names, row, strict=True):
                text = text.replace("${" + name + "}", str(value))
            out.append(text)
    return "".join(out)


def _loop(lines: list[str], n: int, width: int) -> tuple[list[list[object]], list[str], int]:
    """(rows, body lines, index after `#@ end`) of the loop whose rows start at line index n."""
    start = n
    table: list[str] = []
    while n < len(lines) and lines[n].strip() != "#@ do":
        if not lines[n].lstrip().startswith("#@"):
            raise SourceError(f"line {n + 1}: a loop's rows are `#@` lines, then `#@ do`")
        table.append(lines[n].lstrip()[2:])
        n += 1
    rows = yaml.safe_load("".join(table)) if table else None
    if not isinstance(rows, list) or not rows or any(not isinstance(r, list) or len(r) != width for r in rows):
        raise SourceError(f"line {start}: each row of the loop needs {width} values")
    body_start = n = n + 1
    while n < len(lines) and lines[n].strip() != "#@ end":
        if lines[n].lstrip().startswith("#@"):
            raise SourceError(f"line {n + 1}: loops do not nest")
        n += 1
    if n == len(lines):
        raise SourceError(f"line {start}: the loop has no `#@ end`")
    return rows, lines[body_start:n], n + 1


if __name__ == "__main__":
    try:
        files = {TEMPLATE: render(SOURCE.read_text())}
    except SourceError as exc:
        raise SystemExit(f"template.source.yaml: {exc}") from exc
    sys.exit(main(__doc__ or "", files, "template"))
