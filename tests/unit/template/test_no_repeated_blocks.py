"""No block of the template is written more than twice (issue 8, STYLE.md "No block repeated").

A block is 6 consecutive lines that say something: stripped, without blank lines, comments or trailing comments
(the generator's `#@` directives count: a `#@ use` is content a reviewer reads). Two checks:
- template.source.yaml, what a reviewer reads and edits: no block occurs more than twice. A block pasted a third
  time fails here; a block that a loop or snippet writes out many times is written once here.
- template.yaml, what every tool reads, is mostly repeated blocks on purpose (one per loop row or snippet use), so
  its blocks are counted by the source text that wrote them: a block that looks different in more than two places
  of the source and comes out the same (loops whose values, once put in, spell out the same lines) fails. A
  block whose source text is the same everywhere is the first check's business.
"""

import re
from collections import defaultdict

import pytest

from tools.template_source import SOURCE, render_lines

pytestmark = pytest.mark.unit

BLOCK = 6
MOST = 2
TRAILING_COMMENT = re.compile(r"\s+#\s.*$")

Numbered = tuple[int | None, str]  # (the source line it comes from, its text)


def _content(lines: list[Numbered]) -> list[Numbered]:
    kept = []
    for origin, text in lines:
        text = TRAILING_COMMENT.sub("", text.strip())
        if text and (not text.startswith("#") or (text.startswith("#@") and not text.startswith("#@#"))):
            kept.append((origin, text))
    return kept


def repeated_blocks(lines: list[Numbered], source: str | None = None) -> dict[tuple[str, ...], list[int | None]]:
    """Each block found in more than MOST places, with the source line where each place starts. Without `source`
    the lines are the source and each occurrence is a place; with it, an occurrence's place is the source text of
    its lines (the lines as written before a loop's values are put in)."""
    written = [TRAILING_COMMENT.sub("", text.strip()) for text in (source or "").splitlines()]
    kept = _content(lines)
    places: dict[tuple[str, ...], dict[tuple[object, ...], int | None]] = defaultdict(dict)
    for start in range(len(kept) - BLOCK + 1):
        window = kept[start:start + BLOCK]
        place = tuple(written[origin - 1] if source and origin else origin for origin, _ in window)
        places[tuple(text for _, text in window)].setdefault(place, window[0][0])
    return {block: sorted(where.values(), key=lambda origin: origin or 0)
            for block, where in places.items() if len(where) > MOST}


def _source_lines(text: str) -> list[Numbered]:
    return list(enumerate(text.splitlines(), start=1))


def _report(found: dict[tuple[str, ...], list[int | None]]) -> str:
    return "\n".join(f"written at source lines {places}:\n    " + "\n    ".join(block)
                     for block, places in found.items())


def test_the_source_writes_no_block_more_than_twice():
    found = repeated_blocks(_source_lines(SOURCE.read_text()))
    assert found == {}, _report(found)


def test_the_generated_template_has_no_block_from_more_than_two_places():
    # template.yaml is exactly these lines (test_template_source's drift test)
    found = repeated_blocks(render_lines(SOURCE.read_text()), SOURCE.read_text())
    assert found == {}, _report(found)


PASTED = """Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
      MessageRetentionPeriod: 1209600
      DelaySeconds: 0
      ReceiveMessageWaitTimeSeconds: 20
"""


def test_a_block_pasted_a_third_time_is_found_in_the_source():
    thrice = PASTED + PASTED.replace("Resources:\n  A:", "  B:") + PASTED.replace("Resources:\n  A:", "  C:")
    twice = PASTED + PASTED.replace("Resources:\n  A:", "  B:")
    assert repeated_blocks(_source_lines(twice)) == {}
    [block] = [b for b in repeated_blocks(_source_lines(thrice)) if b[0] == "Type: AWS::SQS::Queue"]
    assert block[-1] == "ReceiveMessageWaitTimeSeconds: 20"


def test_a_comment_does_not_hide_a_pasted_block():
    commented = PASTED.replace("DelaySeconds: 0", "DelaySeconds: 0  # no delay")
    thrice = PASTED + PASTED.replace("Resources:\n  A:", "  B:") + commented.replace("Resources:\n  A:", "  C:")
    assert repeated_blocks(_source_lines(thrice)) != {}


LOOPED = """Resources:
  #@ for Name in:
  #@   - [A]
  #@   - [B]
  #@   - [C]
  #@ do
  ${Name}:
    Type: AWS::SQS::Queue
    Properties:
      #@ use queue-basics
  #@ end
#@ define queue-basics
SqsManagedSseEnabled: true
MessageRetentionPeriod: 1209600
DelaySeconds: 0
ReceiveMessageWaitTimeSeconds: 20
#@ end
"""


def test_a_block_that_a_loop_or_a_snippet_writes_many_times_is_one_place():
    generated = render_lines(LOOPED)
    assert sum(text.strip() == "ReceiveMessageWaitTimeSeconds: 20" for _, text in generated) == 3
    assert repeated_blocks(_source_lines(LOOPED)) == {}
    assert repeated_blocks(generated, LOOPED) == {}


LOOP_OF_ITS_OWN = """  #@ for {Id}, {Delay} in:
  #@   - [Queue{Id}, 0]
  #@ do
  ${{{Id}}}:
    Type: AWS::SQS::Queue
    Properties:
      SqsManagedSseEnabled: true
      MessageRetentionPeriod: 1209600
      DelaySeconds: ${{{Delay}}}
      ReceiveMessageWaitTimeSeconds: 20
  #@ end
"""


def test_blocks_that_differ_in_the_source_but_come_out_the_same_are_found_in_the_template():
    # three loops, each with its own names for the same values: the source has no repeated block
    source = "Resources:\n" + "".join(LOOP_OF_ITS_OWN.format(Id=n, Delay=d) for n, d in ("AX", "BY", "CZ"))
    assert repeated_blocks(_source_lines(source)) == {}
    assert ("Type: AWS::SQS::Queue", "Properties:", "SqsManagedSseEnabled: true", "MessageRetentionPeriod: 1209600",
            "DelaySeconds: 0", "ReceiveMessageWaitTimeSeconds: 20") in repeated_blocks(render_lines(source), source)
