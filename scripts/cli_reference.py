"""Print (or --write into docs/cli.md) the CLI reference generated from --help.

A test checks that docs/cli.md holds exactly this text (docs kept honest).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def reference() -> str:
    os.environ["COLUMNS"] = "100"
    from seamline.cli import build_parser

    parser = build_parser()
    blocks = []

    def walk(p: argparse.ArgumentParser) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                        walk(sub)
                    else:
                        blocks.append(sub.format_help().rstrip())

    walk(parser)
    return "```text\n" + "\n\n".join(blocks) + "\n```"


def render(readme: str) -> str:
    body = f"{START}\n{reference()}\n{END}"
    return re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: body, readme, flags=re.S)


if __name__ == "__main__":
    path = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    if "--write" in sys.argv:
        path.write_text(render(path.read_text("utf-8")), "utf-8")
    else:
        print(reference())
