"""Rebuild rules.json from an oasdiff checkout: ids and levels as ``checker/rules.go`` has them.

rules.go names each rule by a Go constant; the constants are declared in the other
``checker/*.go`` files and the descriptions live in the English messages file, so all
three are read from the same commit.

    python tests/data/oasdiff-rules/extract.py /work/.mirror/oasdiff+oasdiff/repo \
        4553c69d3869ee555ee4f00831d8cca6e1c208ff > tests/data/oasdiff-rules/rules.json
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml

_RULE = re.compile(
    r"newBackwardCompatibilityRule\((\w+),\s*(ERR|WARN|INFO),\s*\w+,\s*"
    r"Direction(\w+),\s*Area(\w+),\s*Kind(\w+),\s*Action(\w+)\)"
)
_CONST = re.compile(r"^\s*(\w+Id)\s*=\s*\"([^\"]+)\"", re.MULTILINE)


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def extract(repo: str, commit: str) -> dict[str, object]:
    names = [
        n
        for n in _git(repo, "ls-tree", "--name-only", commit, "checker/").split()
        if n.endswith(".go") and not n.endswith("_test.go")
    ]
    constants: dict[str, str] = {}
    for name in names:
        constants.update(_CONST.findall(_git(repo, "show", f"{commit}:{name}")))
    messages = yaml.safe_load(
        _git(repo, "show", f"{commit}:checker/localizations_src/en/messages.yaml")
    )
    rules = []
    for const, level, direction, area, kind, action in _RULE.findall(
        _git(repo, "show", f"{commit}:checker/rules.go")
    ):
        rule_id = constants[const]
        rules.append(
            {
                "id": rule_id,
                "level": level,
                "direction": direction.lower(),
                "area": area[0].lower() + area[1:],
                "kind": kind.lower(),
                "action": action.lower(),
                "description": messages.get(f"{rule_id}-description", ""),
            }
        )
    return {
        "repository": "https://github.com/oasdiff/oasdiff",
        "commit": commit,
        "path": "checker/rules.go",
        "licence": "Apache-2.0",
        "rules": rules,
    }


if __name__ == "__main__":
    json.dump(extract(sys.argv[1], sys.argv[2]), sys.stdout, indent=1)
    sys.stdout.write("\n")
