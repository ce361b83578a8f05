"""Per-module table of a finished mutmut run: generated, killed, survived, and real survivors.

Run from the project root after ``mutmut run`` (see docs/development.rst)::

    python tests/mutation/summary.py            # the table
    python tests/mutation/summary.py --list     # plus every pragma line and every survivor that changes real code

A *string-only* survivor changes nothing but a string literal (an error message, a key of a
dict read nowhere else); mutmut reports those too, but a test that pinned every message word for
word would be a test of spelling. The column ``real`` counts the other survivors: each is a change
to the code that no test noticed.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from collections import Counter
from pathlib import Path


def _shape(code: str) -> list[tuple[int, str]]:
    """The tokens of ``code`` with every string literal replaced by one placeholder."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
                continue
            out.append((tok.type, "S" if tok.type == tokenize.STRING else tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # A partial statement (one line of a call spanning several): blank its literals by pattern.
        return [(-1, _LITERAL.sub("S", code))]
    return out


_LITERAL = re.compile(r"""[rbfuRBFU]*("([^"\\]|\\.)*"|'([^'\\]|\\.)*')""")


def string_only(diff: str) -> bool:
    """Whether a mutant's unified diff changes nothing but string literals."""
    lines = diff.splitlines()
    old = "\n".join(s[1:].strip() for s in lines if s.startswith("-") and not s.startswith("---"))
    new = "\n".join(s[1:].strip() for s in lines if s.startswith("+") and not s.startswith("+++"))
    return _shape(old) == _shape(new)


def main(argv: list[str]) -> int:
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    if not Path("mutants").is_dir():
        print("no mutants/ directory here: run `mutmut run` from the project root first", file=sys.stderr)
        return 2
    rows, listing = [], []
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        count = Counter(status_by_exit_code[code] for code in data.exit_code_by_key.values())
        real = 0
        for name, code in sorted(data.exit_code_by_key.items()):
            if status_by_exit_code[code] != "survived":
                continue
            diff = get_diff_for_mutant(name, path=path)
            if not string_only(diff):
                real += 1
                listing.append(f"# {name}\n{diff}\n")
        other = sum(count.values()) - count["killed"] - count["survived"]
        rows.append((path.stem, sum(count.values()), count["killed"], count["survived"], real, other))
    print(f"{'module':<16}{'generated':>10}{'killed':>8}{'survived':>10}{'real':>6}{'other':>7}")
    for row in rows:
        print(f"{row[0]:<16}" + "".join(f"{v:>{w}}" for v, w in zip(row[1:], (10, 8, 10, 6, 7), strict=True)))
    totals = [sum(r[i] for r in rows) for i in range(1, 6)]
    print(f"{'total':<16}" + "".join(f"{v:>{w}}" for v, w in zip(totals, (10, 8, 10, 6, 7), strict=True)))
    print("real: survivors that change more than a string literal; other: no tests, timeouts, not checked")
    pragmas = [f"{path}:{n}: {line.strip()}" for path in sorted(walk_mutatable_files())
               for n, line in enumerate(Path(path).read_text().splitlines(), start=1) if "pragma: no mutate" in line]
    print(f"`# pragma: no mutate` lines: {len(pragmas)}")
    if "--list" in argv:
        print()
        print("\n".join(pragmas))
        print()
        print("\n".join(listing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
