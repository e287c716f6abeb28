"""template.yaml is generated from template.source.yaml, where a block that repeats is written once: a resource
block in a loop, a fragment that several resources share in a named snippet; everything else passes through
verbatim (comments, short-form tags, order). CloudFormation's own loop (`AWS::LanguageExtensions`
`Fn::ForEach`) was the first choice, but checkov 3.3.30 does not expand it: the looped queues and alarms would go
unscanned. So the plain template every tool reads is what this writes.

A loop in the source (rows are a YAML list of lists, one value per name; `${Name}` in the body is replaced):

      #@ for Queue, Timeout in:
      #@   - [Activation, 180]
      #@   - [Amendment, 180]
      #@ do
      ${Queue}Queue:
        Type: AWS::SQS::Queue
        Properties: {VisibilityTimeout: ${Timeout}}
      #@ end

A snippet: a fragment written once and placed where `#@ use` names it, at that line's indentation (its own
indentation does not matter). It can stand anywhere in the source, is written out only where it is used, holds
no loop or other snippet, and must be used (an unused one is refused). A `#@ use` inside a loop body is placed
before the loop is written out, so the loop's `${Name}`s apply to it too:

      #@ define hub-key-attributes
      - AttributeName: pk
        AttributeType: S
      #@ end
      ...
          AttributeDefinitions:
            #@ use hub-key-attributes
            - AttributeName: due
              AttributeType: S

`#@#` lines (anywhere, loops and snippets included) are comments that stay in the source.

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
          "# when they differ). Loops and snippets there write each repeated block once.\n")
FOR = re.compile(r"^\s*#@ for (?P<names>[A-Za-z][A-Za-z0-9]*(?:, *[A-Za-z][A-Za-z0-9]*)*) in:\s*$")
DEFINE = re.compile(r"^\s*#@ define (?P<name>[A-Za-z][A-Za-z0-9-]*)\s*$")
USE = re.compile(r"^(?P<indent>[ ]*)#@ use (?P<name>[A-Za-z][A-Za-z0-9-]*)\s*$")

# A line of the template with the number of the source line that wrote it (None: the generated header). The
# repetition check counts a block that loops or snippets write several times from one source line once.
Line = tuple[int | None, str]


class SourceError(ValueError):
    """The source's loop or snippet markup is malformed; the message names the line."""


def render(source: str) -> str:
    return "".join(text for _, text in render_lines(source))


def render_lines(source: str) -> list[Line]:
    """The generated template, line by line, each with the source line it came from."""
    lines: list[Line] = [(number, text) for number, text in enumerate(source.splitlines(keepends=True), start=1)
                         if not text.lstrip().startswith("#@#")]  # comments for readers of the source only
    snippets, lines = _snippets(lines)
    return [(None, HEADER), *_loops(_use(lines, snippets))]


def _is(line: Line, directive: str) -> bool:
    return line[1].strip() == directive


def _error(line: Line, problem: str) -> SourceError:
    return SourceError(f"line {line[0]}: {problem}")


def _snippets(lines: list[Line]) -> tuple[dict[str, list[Line]], list[Line]]:
    """({name: body without its indentation}, the lines outside any `#@ define`)."""
    snippets: dict[str, list[Line]] = {}
    rest: list[Line] = []
    n = 0
    while n < len(lines):
        found = DEFINE.match(lines[n][1])
        if not found:
            rest.append(lines[n])
            n += 1
            continue
        start, n = lines[n], n + 1
        body: list[Line] = []
        while n < len(lines) and not _is(lines[n], "#@ end"):
            if lines[n][1].lstrip().startswith("#@"):
                raise _error(lines[n], "a snippet holds no loop, snippet or `#@ use`")
            body.append(lines[n])
            n += 1
        if n == len(lines):
            raise _error(start, "the snippet has no `#@ end`")
        if found["name"] in snippets or not body:
            raise _error(start, f"snippet `{found['name']}` is defined twice or empty")
        snippets[found["name"]] = _dedent(body)
        n += 1
    return snippets, rest


def _dedent(body: list[Line]) -> list[Line]:
    indent = min(len(text) - len(text.lstrip(" ")) for _, text in body if text.strip())
    return [(origin, text[indent:] if text.strip() else text) for origin, text in body]


def _use(lines: list[Line], snippets: dict[str, list[Line]]) -> list[Line]:
    """The lines with each `#@ use` replaced by its snippet, indented as the `#@ use` line is."""
    out: list[Line] = []
    used: set[str] = set()
    for line in lines:
        found = USE.match(line[1])
        if not found:
            out.append(line)
            continue
        if found["name"] not in snippets:
            raise _error(line, f"no snippet `{found['name']}` is defined")
        used.add(found["name"])
        out += [(origin, found["indent"] + text if text.strip() else text) for origin, text in snippets[found["name"]]]
    if unused := sorted(set(snippets) - used):
        raise SourceError(f"snippets defined but never used: {', '.join(unused)}")
    return out


def _loops(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    n = 0
    while n < len(lines):
        found = FOR.match(lines[n][1])
        if not found:
            if lines[n][1].lstrip().startswith("#@"):
                raise _error(lines[n], f"`{lines[n][1].strip()}` outside a loop or snippet")
            out.append(lines[n])
            n += 1
            continue
        names = [name.strip() for name in found["names"].split(",")]
        rows, body, n = _loop(lines, n + 1, len(names))
        for row in rows:
            for origin, text in body:
                for name, value in zip(names, row, strict=True):
                    text = text.replace("${" + name + "}", str(value))
                out.append((origin, text))
    return out


def _loop(lines: list[Line], n: int, width: int) -> tuple[list[list[object]], list[Line], int]:
    """(rows, body lines, index after `#@ end`) of the loop whose rows start at line index n."""
    start = lines[n - 1]
    table: list[str] = []
    while n < len(lines) and not _is(lines[n], "#@ do"):
        if not lines[n][1].lstrip().startswith("#@"):
            raise _error(lines[n], "a loop's rows are `#@` lines, then `#@ do`")
        table.append(lines[n][1].lstrip()[2:])
        n += 1
    rows = yaml.safe_load("".join(table)) if table else None
    if not isinstance(rows, list) or not rows or any(not isinstance(r, list) or len(r) != width for r in rows):
        raise _error(start, f"each row of the loop needs {width} values")
    body_start = n = n + 1
    while n < len(lines) and not _is(lines[n], "#@ end"):
        if lines[n][1].lstrip().startswith("#@"):
            raise _error(lines[n], "loops do not nest")
        n += 1
    if n == len(lines):
        raise _error(start, "the loop has no `#@ end`")
    return rows, lines[body_start:n], n + 1


if __name__ == "__main__":
    try:
        files = {TEMPLATE: render(SOURCE.read_text())}
    except SourceError as exc:
        raise SystemExit(f"template.source.yaml: {exc}") from exc
    sys.exit(main(__doc__ or "", files, "template"))
