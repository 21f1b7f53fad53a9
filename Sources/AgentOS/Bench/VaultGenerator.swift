import Foundation

/// A small, fast, seeded random generator (SplitMix64), so every bench run builds the same vault (and
/// a test's random choices can be replayed from its seed).
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }

    /// `true` with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Writes a synthetic vault that looks like a working one: folders, frontmatter, headings, links,
/// code blocks, tags, word frequencies that follow Zipf's law, and about one note in ten in German,
/// French, Russian, Japanese, Chinese or Korean.
public enum VaultGenerator {
    /// What was generated.
    public struct Result {
        /// Notes written.
        public var notes: Int
        /// Their bytes in all.
        public var bytes: Int
    }

    static let englishFolders = ["Projects", "Meetings", "Research", "Memory", "Daily", "Tasks", "Reference"]
    static let types = ["Projects": "project", "Meetings": "meeting", "Research": "research", "Memory": "memory", "Daily": "daily", "Tasks": "task", "Reference": "reference"]

    static let common: [String] = """
    the of and to in is that for it as with was on be by this are from or have an they which you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three
    project meeting review plan design system data team notes index search memory agent model task budget release deploy server client query result report draft update issue feature test build config vault sync folder link heading
    """.split(whereSeparator: \.isWhitespace).map { String($0) }

    static let german = "über straße größe änderung prüfung schlüssel übersicht zusammenfassung gespräch entwurf arbeitsbereich verknüpfung lösung mächtig fähigkeit bestätigung größenordnung weiß grün früh spät natürlich möglich".split(separator: " ").map(String.init)
    static let french = "réunion équipe élément système déjà créer été réseau sécurité bibliothèque fenêtre côté première dernière mémoire résumé café naïve où très préférence données".split(separator: " ").map(String.init)
    static let russian = "заметка поиск память проект встреча задача система данные команда обзор план версия ссылка заголовок папка синхронизация".split(separator: " ").map(String.init)
    static let japanese = "検索 メモ 会議 記録 設定 同期 日本語 文書 見出し 索引 作業 計画 確認 結果 共有 保存 東京 資料 仕様 変更".split(separator: " ").map(String.init)
    static let chinese = "搜索 笔记 会议 记录 设置 同步 文档 标题 索引 工作 计划 确认 结果 共享 保存 北京 资料 规范 变更 数据".split(separator: " ").map(String.init)
    static let korean = "검색 메모 회의 기록 설정 동기화 문서 제목 색인 작업 계획 확인 결과 공유 저장 서울 자료 변경 데이터 팀".split(separator: " ").map(String.init)
    static let languages: [(folder: String, words: [String], joiner: String)] = [
        ("de", german, " "), ("fr", french, " "), ("ru", russian, " "), ("ja", japanese, ""), ("zh", chinese, ""), ("ko", korean, " "),
    ]
    static let tags = ["project", "idea", "meeting", "todo", "research", "reading", "ops", "infra", "design", "personal", "work/alpha", "work/beta", "review", "draft", "archive"]

    /// Writes `count` notes under `root` (which must exist and be empty). Deterministic for a seed.
    public static func generate(count: Int, into root: String, seed: UInt64 = 42) throws -> Result {
        var random = SeededRandom(seed: seed)
        let vocabulary = makeVocabulary(&random, size: 6000)
        // Zipf weights: the k-th word is drawn in proportion to 1/k.
        var cumulative: [Double] = []
        cumulative.reserveCapacity(vocabulary.count)
        var total = 0.0
        for k in 1...vocabulary.count {
            total += 1.0 / Double(k)
            cumulative.append(total)
        }
        func word(_ random: inout SeededRandom) -> String {
            let x = Double(random.next() % 1_000_000_007) / 1_000_000_007.0 * total
            var lo = 0
            var hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] < x { lo = mid + 1 } else { hi = mid }
            }
            return vocabulary[lo]
        }

        // Titles first, so that notes can link to each other.
        var titles: [String] = []
        var folders: [String] = []
        var seen = Set<String>()
        for i in 0..<count {
            let isForeign = random.chance(10)
            var folder: String
            var title: String
            if isForeign {
                let language = languages[random.below(languages.count)]
                folder = language.folder
                let n = 2 + random.below(2)
                title = (0..<n).map { _ in language.words[random.below(language.words.count)] }.joined(separator: language.joiner)
            } else {
                folder = englishFolders[random.below(englishFolders.count)]
                let n = 2 + random.below(3)
                var words = (0..<n).map { _ in word(&random) }
                words[0] = words[0].prefix(1).uppercased() + words[0].dropFirst()
                title = words.joined(separator: " ")
            }
            if folder == "Daily" { title = String(format: "2025-%02d-%02d %d", 1 + i % 12, 1 + i % 28, i) }
            if seen.contains(title.lowercased()) { title += " \(i)" }
            seen.insert(title.lowercased())
            titles.append(title)
            folders.append(folder)
        }
        for folder in Set(folders) { try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true) }

        var bytesWritten = 0
        for i in 0..<count {
            var text = "---\n"
            let folder = folders[i]
            text += "type: \(types[folder] ?? "note")\n"
            text += "created: 2025-\(String(format: "%02d", 1 + random.below(12)))-\(String(format: "%02d", 1 + random.below(28)))\n"
            if random.chance(70) {
                let n = 1 + random.below(3)
                text += "tags:\n" + (0..<n).map { _ in "  - \(tags[random.below(tags.count)])\n" }.joined()
            }
            if folder == "Tasks" { text += "status: \(["new", "done", "running", "review"][random.below(4)])\n" }
            if random.chance(5) { text += "aliases:\n  - \(titles[i].lowercased()) alias\n" }
            text += "---\n"
            let language = languages.first { $0.folder == folder }
            let sections = 1 + random.below(random.chance(20) ? 12 : 5)
            for s in 0..<sections {
                if s > 0 || random.chance(60) {
                    let level = s == 0 ? 1 : 2 + random.below(2)
                    text += String(repeating: "#", count: level) + " " + sentence(&random, language: language, words: 2 + random.below(3), word: word, capitalize: true) + "\n\n"
                }
                let paragraphs = 1 + random.below(3)
                for _ in 0..<paragraphs {
                    let sentences = 1 + random.below(5)
                    for _ in 0..<sentences {
                        text += sentence(&random, language: language, words: 6 + random.below(14), word: word, capitalize: true) + ". "
                        if random.chance(12) {
                            let target = titles[random.below(count)]
                            let style = random.below(10)
                            if style == 0 { text += "![[\(target)]] " }
                            else if style == 1 { text += "[[\(target)#Details|see details]] " }
                            else if style == 2 { text += "[[\(target)|\(target.lowercased())]] " }
                            else { text += "[[\(target)]] " }
                        }
                    }
                    text += "\n\n"
                }
                if random.chance(8) {
                    text += "```swift\nlet value = index.search(\"[[Not a link]]\")\n```\n\n"
                }
                if random.chance(10) {
                    text += "- [ ] " + sentence(&random, language: language, words: 5, word: word, capitalize: true) + " #\(tags[random.below(tags.count)])\n\n"
                }
            }
            let path = root + "/" + folder + "/" + titles[i].replacingOccurrences(of: "/", with: "-") + ".md"
            let data = Data(text.utf8)
            bytesWritten += data.count
            try data.write(to: URL(fileURLWithPath: path))
        }
        return Result(notes: count, bytes: bytesWritten)
    }

    private static func sentence(_ random: inout SeededRandom, language: (folder: String, words: [String], joiner: String)?, words n: Int, word: (inout SeededRandom) -> String, capitalize: Bool) -> String {
        var parts: [String] = []
        parts.reserveCapacity(n)
        for _ in 0..<n {
            // Foreign notes still carry English words (code, names), as real ones do.
            if let language, random.chance(70) {
                parts.append(language.words[random.below(language.words.count)])
            } else {
                parts.append(word(&random))
            }
        }
        if capitalize, let first = parts.first { parts[0] = first.prefix(1).uppercased() + first.dropFirst() }
        return parts.joined(separator: language?.joiner ?? " ")
    }

    /// Common English words first (the head of the Zipf curve), then made-up words for the long tail.
    private static func makeVocabulary(_ random: inout SeededRandom, size: Int) -> [String] {
        var words = common
        var seen = Set(words)
        let onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "cl", "st", "tr", "sh", "ch", "gr", "pl"]
        let vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
        let codas = ["", "n", "r", "s", "t", "l", "m", "x", "nd", "rk", "st"]
        while words.count < size {
            let syllables = 2 + random.below(3)
            var w = ""
            for _ in 0..<syllables {
                w += onsets[random.below(onsets.count)] + vowels[random.below(vowels.count)]
            }
            w += codas[random.below(codas.count)]
            if seen.insert(w).inserted { words.append(w) }
        }
        return words
    }
}
