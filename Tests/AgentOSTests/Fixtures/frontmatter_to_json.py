#!/usr/bin/env python3
"""Reference reader for the frontmatter tests: PyYAML's view of each note's frontmatter.

Reads note paths (one per line) from the file named by the first argument (or stdin) and prints one
JSON line per note, in order:
  {"kind": "none"}                    no frontmatter block
  {"kind": "unclosed"}                '---' opens a block that never closes
  {"kind": "error", "message": "..."} yaml.safe_load refused the block
  {"kind": "value", "value": V}       the loaded block, V in the tagged form below

The block is found exactly as NoteLayout.scan finds it: an optional UTF-8 BOM, a first line that is
'---' followed only by spaces or tabs and ends with a line break, then every line up to the next such
line; a CR before each LF is dropped and each line ends with LF (the closing line follows it).

Tagged form (so that types survive JSON): null, booleans, strings and 64-bit integers as themselves;
{"$float": repr}; {"$bigint": digits}; {"$date": "YYYY-MM-DD"};
{"$datetime": "SECONDS.MICROS"} (seconds since the epoch in UTC, naive times taken as UTC);
{"$map": [[key, value], ...]} in document order; lists as arrays; {"$bytes": base64}.
"""
import base64
import calendar
import datetime
import json
import sys

try:
    import yaml
except ImportError:
    print("PyYAML is not installed; run: python3 -m pip install pyyaml", file=sys.stderr)
    sys.exit(3)

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def is_delimiter(line):
    return line.startswith(b"---") and all(c in b" \t" for c in line[3:])


def split_lines(data, start):
    """Yields (content, has_terminator) for each line from `start`."""
    i = start
    while i < len(data):
        j = data.find(b"\n", i)
        if j < 0:
            yield data[i:], False
            return
        content = data[i:j]
        if content.endswith(b"\r"):
            content = content[:-1]
        yield content, True
        i = j + 1


def extract(data):
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    lines = split_lines(data, start)
    first = next(lines, None)
    if first is None or not first[1] or not is_delimiter(first[0]):
        return None
    inner = []
    for content, _ in lines:
        if is_delimiter(content):
            return b"".join(inner)
        inner.append(content + b"\n")
    return False


def tag(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else {"$bigint": str(value)}
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, datetime.datetime):
        seconds = calendar.timegm(value.utctimetuple())
        return {"$datetime": "%d.%06d" % (seconds, value.microsecond)}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {"$map": [[tag(k), tag(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [tag(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"$map": [[tag(k), None] for k in value]}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    return {"$other": repr(value)}


def main():
    out = sys.stdout
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            paths = f.read().splitlines()
    else:
        paths = sys.stdin.read().splitlines()
    for path in paths:
        if not path:
            continue
        with open(path, "rb") as f:
            data = f.read()
        block = extract(data)
        if block is None:
            record = {"kind": "none"}
        elif block is False:
            record = {"kind": "unclosed"}
        else:
            text = block.decode("utf-8", errors="replace")
            try:
                record = {"kind": "value", "value": tag(yaml.load(text, Loader=Loader))}
            except Exception as error:  # YAMLError, or ValueError for a date like 2024-02-30
                record = {"kind": "error", "message": str(error).replace("\n", " ")}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
