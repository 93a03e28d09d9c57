#!/usr/bin/env python3
"""Checks .ci/import-cycles.py on small made-up crates: run it, exit 0 when it
finds exactly the cycles each case has."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = {
    # name: ({file: text}, expected exit code, text the report must contain)
    "sibling cycle through a re-export": (
        {
            "lib.rs": "mod a;\nmod b;\npub use b::Thing;\n",
            "a.rs": "use crate::Thing;\npub struct Other;\n",
            "b.rs": "pub struct Thing;\nfn f() -> crate::a::Other { todo!() }\n",
        },
        1,
        "src/a.rs -> src/b.rs -> src/a.rs",
    ),
    "super paths from a nested module": (
        {
            "lib.rs": "mod m;\n",
            "m/mod.rs": "mod x;\nmod y;\n",
            "m/x.rs": "use super::y::Y;\npub struct X;\n",
            "m/y.rs": "pub struct Y;\nfn g(_: super::x::X) {}\n",
        },
        1,
        "src/m/x.rs -> src/m/y.rs -> src/m/x.rs",
    ),
    "tests, parents, comments and strings are no edges": (
        {
            "lib.rs": "mod a;\nmod b;\npub struct Root;\npub use a::A;\n",
            "a.rs": "use crate::b::B;\nuse crate::Root;\npub struct A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            "b.rs": "// crate::a::A\npub struct B;\nconst S: &str = \"crate::a::A\";\n",
        },
        0,
        "no cycles",
    ),
}


def main():
    failed = 0
    for name, (files, code, text) in CASES.items():
        with tempfile.TemporaryDirectory() as root:
            for rel, body in files.items():
                path = os.path.join(root, "crates", "demo", "src", rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(body)
            run = subprocess.run(
                [sys.executable, os.path.join(HERE, "import-cycles.py"), "--root", root, "demo"],
                capture_output=True, text=True, check=False,
            )
            if run.returncode != code or text not in run.stdout:
                failed += 1
                print(f"FAIL {name}: exit {run.returncode}, wanted {code} and {text!r}\n{run.stdout}{run.stderr}")
            else:
                print(f"ok   {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
