import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Valid YAML written the many ways people write it: PyYAML and we must read each note the same
/// (up to the YAML 1.1 / 1.2 differences listed in `YAMLReference`).
@Suite struct YAMLConstructsTests {
    static let constructs: [String] = [
        #"""
        a: 1
        b: -2
        c: +3
        d: 0x1F
        e: 1.5
        f: -0.5e+3
        g: .inf
        h: -.inf
        """#,
        "t: true\nf: False\nn: null\nt2: ~\nempty:",
        "date: 2024-01-15\ndt: 2024-01-15T10:30:00\ndtz: 2024-01-15T10:30:00Z\ndto: 2024-01-15 10:30:00.25 -05:00\nobs: 2024-01-15T10:30",
        #"""
        s: 'single ''quoted'''
        d: "double \"quoted\" \t \u00e9 \U0001F642"
        p: plain text # comment
        """#,
        "multi: this is\n  a folded\n\n  plain scalar\nnext: x",
        #"""
        q: 'one
          two

          three'
        d: "a
          b \
          c"
        """#,
        "lit: |\n  a\n   b\n\n  c\nfold: >\n  a\n  b\n\n  c\n   d\n  e\nstrip: |-\n  x\nkeep: |+\n  y\n\nafter: 1",
        "ind: |2\n    two more\n  base\nfi: >-\n\n  lead\n  fold",
        "list:\n  - a\n  - b\nsame:\n- c\n- d\nnested:\n  - - x\n    - y\n  - z",
        "maps:\n  - name: a\n    n: 1\n  - name: b\n    tags: [x, y]\n  -\n    k: v",
        "deep:\n  a:\n    b:\n      c: [1, {d: e}]\n  f: g",
        "flow: [a, 'b', \"c\", 1, true, null, [x, y], {k: v}]\nfm: {a: 1, b: [2, 3], c: {d: e}}\nml: [a,\n  b,\n  c]",
        "links: \"[[Note]]\"\nl2:\n  - \"[[A|alias]]\"\n  - \"[[B#Heading]]\"\nbare: [[X]]",
        "tags: [c++, c#, \"#quoted\"]\nurl: https://example.com/path?q=1#frag\nmail: a@b.c",
        "\"quoted key\": 1\n'single key': 2\nkey with spaces: 3\nkey-dash: 4\nkey.dot: 5\n日本: 6\n\"\": empty key",
        "# comment first\na: 1 # trailing\n# between\n\nb:   # value on next lines\n  - x # item comment\n  # inner\n  - y",
        "  indented: 1\n  second: [a]\n  third:\n    - b",
        "anchor: &a value\ntagged: !!str 42\nbin: 0b101",
        "num_like: [1_000, 1:30, 017, 0o17, 1e3, .5, 5., +.5]",
        "dup: 1\ndup: 2",
        #"""
        sp: 'a  b'
        tabs: "\ta\tb"
        lead: '  x'
        trail: 'x  '
        """#,
        "unicode: héllo wörld\nemoji: 🙂🎉\nrtl: שלום\ncjk: 中文字符",
        "e1: ''\ne2: \"\"\ne3: []\ne4: {}\ne5: [ ]\ne6: { }",
        "long: >\n  Lorem ipsum dolor sit amet,\n  consectetur adipiscing elit.\n\n  Second paragraph\n  continues here.\n",
        #"""
        cr: "line\r\nbreak"
        nul: "\0"
        esc: "\x41\u0042\/"
        """#,
        "k: v\n\n\n# trailing comments\n\n",
        "list_of_lists:\n  - [a, b]\n  - [c]\nmap_in_flow_list: [{a: 1}, {b: 2}]",
        "seq_after_blank:\n\n  - a\n\n  - b\n",
        "colon_value: a:b\nurlish: x://y\nratio: 16:9",
        "block_in_list:\n  - |\n    text\n  - >-\n    folded\n    more\n  - plain",
        "key: value with 'quotes' and \"doubles\" inside",
        #"{"json": true, "n": [1, 2.5, "s"], "o": {"k": null}}"#,
        "{\n  \"pretty\": \"json\",\n  \"list\": [\n    1,\n    2\n  ]\n}",
        "windows_path: C:\\Users\\me\nquoted_path: 'C:\\Users'",
        "question: what?\nexclaim: wow!\npercent: 50%\nat: me@home",
        "folded: >\n  text\n  # not a comment\nlit: |\n  line\n# a real comment\nnext: 1",
        "k: 'a # b'\nl: [a, b]   # comment\nm: {a: 1}  # comment\nn: \"x\"  # comment",
        "f1: 1.0\nf2: 1.10\ni: 100\nf3: 12e03\nf4: -1.5E+2",
        "a:\n  - b:\n      - c\n    d: e\n  - f",
        "k:\n  - a\n  -\n  - b\ntrailing:    value   \ntab: a\tb",
        "sentence: This is a sentence. It has, commas; and semi-colons!\nq: Why? Because.",
        "path: /usr/local/bin\nrel: ./notes/x.md\nwin: 'C:\\x'",
        "version: 1.2.3\nsemver: v2.0.0-beta+1\nip: 192.168.0.1",
    ]

    @Test func handWrittenConstructsAgreeWithPyYAML() throws {
        let folder = TemporaryFolder.make("fbt-constructs")
        defer { TemporaryFolder.remove(folder) }
        var paths: [String] = []
        for (n, yaml) in YAMLConstructsTests.constructs.enumerated() {
            let path = folder + "/\(n).md"
            try Data(("---\n" + yaml + "\n---\nbody\n").utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let records = try VaultTestSupport.pyYAMLRecords(for: paths)
        for (yaml, (path, record)) in zip(YAMLConstructsTests.constructs, zip(paths, records)) {
            let note: Note
            do { note = try Note.parse(bytes: try VaultTestSupport.bytes(path)) } catch {
                Issue.record("we refuse valid YAML (\(error)):\n\(yaml)")
                continue
            }
            guard record["kind"]?.stringValue == "value", let value = record["value"] else {
                Issue.record("PyYAML refuses \(yaml.debugDescription): \(record.compact)")
                continue
            }
            if let problem = YAMLReference.disagreement(properties: note.properties, reference: value) {
                Issue.record("\(problem)\n  in: \(yaml.debugDescription)")
            }
        }
    }
}
