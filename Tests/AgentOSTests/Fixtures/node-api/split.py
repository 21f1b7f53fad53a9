#!/usr/bin/env python3
"""Split Node.js API docs (/usr/share/doc/nodejs/api/*.md) into one note per
level-2 heading: split.py [SOURCE] OUT. Source files are only read, never modified."""
import glob, os, re, sys

SRC = sys.argv[1] if len(sys.argv) > 2 else "/usr/share/doc/nodejs/api"
OUT = sys.argv[-1] if len(sys.argv) > 1 else sys.exit("usage: split.py [SOURCE] OUT")
SKIP = {"all.md", "index.md"}
BAD = re.compile(r'[/\\:*?"<>|]')
FENCE = re.compile(r'^\s{0,3}(`{3,}|~{3,})')


def safe_name(heading):
    name = heading.replace("`", "")
    name = BAD.sub("-", name)
    name = name.strip()[:120].strip()
    return name or "untitled"


def split(text):
    """Return (preamble_lines, [(heading, body_lines)]) ignoring ## inside code fences."""
    pre, sections, cur = [], [], None
    fence = None
    for line in text.splitlines(keepends=True):
        m = FENCE.match(line)
        if m:
            tok = m.group(1)
            if fence is None:
                fence = tok
            elif tok[0] == fence[0] and len(tok) >= len(fence) and line.strip() == tok:
                fence = None
        elif fence is None and line.startswith("## "):
            cur = (line[3:].strip(), [])
            sections.append(cur)
            continue
        (pre if cur is None else cur[1]).append(line)
    return pre, sections


def main():
    count = 0
    files = sorted(glob.glob(os.path.join(SRC, "*.md")))
    for path in files:
        base = os.path.basename(path)
        if base in SKIP:
            continue
        module = base[:-3]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        pre, sections = split(text)
        folder = os.path.join(OUT, module)
        os.makedirs(folder, exist_ok=True)
        used = set()

        def write(name, content):
            nonlocal count
            cand, n = name, 1
            while cand.lower() in used:
                n += 1
                cand = f"{name} {n}"
            used.add(cand.lower())
            with open(os.path.join(folder, cand + ".md"), "w", encoding="utf-8") as f:
                f.write(content)
            count += 1

        write(f"{module} overview", "".join(pre).strip("\n") + "\n")
        for heading, body in sections:
            write(safe_name(heading), f"# {heading}\n" + "".join(body).rstrip("\n") + "\n")
    print(f"modules: {len([f for f in files if os.path.basename(f) not in SKIP])}")
    print(f"notes written: {count}")


if __name__ == "__main__":
    main()
