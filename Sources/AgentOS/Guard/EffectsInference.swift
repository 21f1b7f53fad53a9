import Foundation

/// An effect read from a task's own words, with the words it was read from.
public struct InferredEffect: Sendable, Equatable {
    /// `delete`, `deploy` or `payment` (of `SideEffect.all`), or `submit` (sending a form, logging
    /// in, signing up on a web page: not in `SideEffect.all`, so it always needs review).
    public let effect: String
    /// The words that gave it away, as written (one line; a long match is shortened to its ends): `rm -rf`, `despliega`.
    public let evidence: String

    /// An inferred effect.
    public init(effect: String, evidence: String) {
        self.effect = effect
        self.evidence = evidence
    }
}

/// Infers the risky side effects a task asks for from its title and body, so that a task that does
/// not declare `effects` still waits for a person before it deletes, deploys, publishes or pays.
///
/// Two kinds of patterns: commands, which mean the same in every language (`rm -rf`, `git push
/// --force`, `DROP TABLE`, `terraform apply`, `kubectl delete`, `npm publish`, `aws s3 rm`, …), and
/// words in English, German, French, Spanish, Chinese and Japanese. English verbs count in their
/// imperative use — at the start of a sentence or after "please", "then", "can you", …, or followed by
/// an object ("delete the …", "pay $40") — so "explain what DELETE does in HTTP" or "summarize the
/// deployment docs" do not count. In the other languages the imperative and infinitive forms count
/// (`lösche`, `supprimez`, `despliega`, `删除`, `削除して`); CJK words count wherever they occur.
/// Where a phrasing is ambiguous, the patterns lean toward inferring: a false alarm costs a person a
/// click, a miss costs a deploy or a payment.
///
/// Mapping: deleting, wiping, dropping, truncating, force-pushing (it destroys remote history),
/// closing an account, revoking keys or access, formatting a disk and
/// destroying infrastructure are `delete`; deploying, releasing, publishing a package, post or
/// release, and applying infrastructure changes are `deploy`; paying, transferring or wiring money,
/// refunds and purchases are `payment`; submitting a form, logging or signing in, signing up,
/// creating an account and checking out (what a browser agent would do on someone's behalf) are
/// `submit`, which no `review_effects` list can leave out.
public enum EffectsInference {
    private struct Rule {
        let effect: String
        let regex: NSRegularExpression
    }

    /// What comes before an English verb used as a command: the start of a line or sentence, or a
    /// word that introduces an instruction.
    private static let lead = #"(?:^|[.!?;:\n(\-*>•]\s*|\b(?:please|pls|then|and|now|also|first|finally|must|should|can you|could you|will you|would you|go ahead and|need you to|want you to|i want to|let's|lets|to|just|immediately|asap|quickly)\s+)"#
    /// What follows an English verb used on an object: a determiner, pronoun, amount or direction.
    private static let object = #"(?=\s+(?:the|a|an|all|any|every|each|my|our|your|their|his|her|its|this|that|these|those|it|them|him|everything|anything|[$€£¥]|\d|to|from|on|into|out|off|for|up|some|old|unused|stale)\b|\s*[$€£¥]|\s*$)"#

    /// Nouns an English verb is often followed by when it is not a command ("release notes", "pay attention").
    private static let notCommand = #"(?!\s+(?:notes?|docs?|documentation|process|pipeline|button|key|endpoint|method|methods|request|requests|operation|operations|statement|command|function|policy|date|schedule|plan|candidate|branch|workflow|script|log|history|strategy|checklist|manager|team|status|attention|homage|tribute|cycle|train|page|section|semantics|works?|does|did|means?|is|was)\b)"#

    private static func english(_ verbs: String) -> String {
        #"(?i)(?:"# + lead + #"(?:"# + verbs + #")\b"# + notCommand + #"|\b(?:"# + verbs + #")"# + notCommand + object + ")"
    }

    private static func rule(_ effect: String, _ source: String) -> Rule {
        Rule(effect: effect, regex: try! NSRegularExpression(pattern: source, options: [.anchorsMatchLines]))
    }

    private static let rules: [Rule] = commandRules + languageRules

    /// The rules for commands (any language around them); also run on the text without quotes, as a
    /// shell reads `'rm' -rf`, `r"m"` or `g'i't push`.
    private static let commandRules: [Rule] = [
        // Commands (any language around them).
        rule("delete", #"(?i)\brm\s+(?:-{1,2}[A-Za-z-]+\s+)*(?:-{1,2}[A-Za-z-]*|[~/.*$"'])"#),
        rule("delete", #"(?i)\b(?:rmdir|shred|unlink|srm|wipefs|mkfs(?:\.\w+)?)\s+\S"#),
        rule("delete", #"(?i)\bfind\b[^\n]{0,200}?\s-delete\b|\bfind\b[^\n]{0,200}?\s-exec(?:dir)?\s+(?:rm|shred|unlink)\b|\bdd\s+[^\n]{0,80}?\bof=/dev/|\btruncate\s+(?:-s\s*0|--size[= ]0)\b"#),
        rule("delete", #"(?i)\bgit\s+push\b[^\n;&|]{0,200}?(?:\s--force(?:-with-lease|-if-includes)?\b|\s-[A-Za-z]*f\b|\s\+[\w/.-]+|\s--delete\b|\s--mirror\b)"#),
        rule("delete", #"(?i)\bgit\s+(?:reset\s+--hard|clean\s+-[A-Za-z]*f|branch\s+-D\b|filter-branch|filter-repo|rebase\b[^\n]{0,60}\s--root)"#),
        rule("delete", #"(?i)\b(?:drop\s+(?:table|database|schema|index|view|collection|user|role|keyspace)|truncate\s+table\s+[`"\w]|delete\s+from\s+[`"\w]|drop\s+(?:the|this|that|all)\s+(?:\w+\s+)?(?:tables?|database|db|columns?|indexes|collection|schema)\b|flushall|flushdb|dropdatabase\s*\(|\.drop\s*\(\s*\)|\.delete_?many\s*\()"#),
        rule("delete", #"\bTRUNCATE\s+[`"]?\w"#),
        rule("delete", #"(?i)\b(?:terraform|tofu|pulumi)\s+destroy\b|\bkubectl\s+(?:delete|drain)\b|\bhelm\s+(?:uninstall|delete)\b|\bdocker\s+(?:system\s+prune|volume\s+(?:rm|prune)|rm\s+-f|rmi)\b"#),
        rule("delete", #"(?i)\baws\s+s3\s+(?:rm|rb)\b|\baws\s+\S+\s+(?:delete|terminate)-[\w-]+|\bgsutil\s+(?:-m\s+)?rm\b|\b(?:gcloud|az)\b[^\n]{0,120}?\s(?:delete|purge)\b|\bgh\s+(?:repo|release)\s+delete\b"#),
        rule("deploy", #"(?i)\b(?:terraform|tofu)\s+apply\b|\bpulumi\s+up\b|\bkubectl\s+(?:apply|create|replace|rollout|scale|patch|set\s+image)\b|\bhelm\s+(?:install|upgrade)\b|\bansible-playbook\b"#),
        rule("deploy", #"(?i)\b(?:npm|yarn|pnpm|bun)\s+(?:npm\s+)?publish\b|\bcargo\s+publish\b|\btwine\s+upload\b|\b(?:poetry|flit|hatch|uv)\s+publish\b|\bgem\s+push\b|\bdocker\s+push\b|\bdotnet\s+nuget\s+push\b|\bpod\s+trunk\s+push\b|\bmvn\s+deploy\b|\bgradlew?\s+publish"#),
        rule("deploy", #"(?i)\bgh\s+(?:release\s+create|pr\s+merge)\b|\b(?:fly|flyctl|vercel|netlify|firebase|serverless|sls|cdk|wrangler|railway|eb)\s+deploy\b|\bvercel\s+--prod\b|\bgcloud\b[^\n]{0,80}?\sdeploy\b|\bgit\s+push\s+heroku\b|\bkamal\s+deploy\b"#),
        rule("payment", #"(?i)\bstripe\s+(?:charges|payment_intents|refunds|transfers|payouts)\s+create\b|api\.stripe\.com/v1/(?:charges|payment_intents|refunds|transfers|payouts)"#),
    ]

    /// The rules for requests in words.
    private static let languageRules: [Rule] = [
        // English.
        rule("delete", english(#"delete|wipe|erase|purge|destroy|nuke|obliterate|uninstall|force[- ]push"#)),
        // Closing accounts, revoking access, formatting a disk: nothing to undo.
        rule("delete", #"(?i)\b(?:close|cancel|terminate|delete|deactivate)\s+(?:my|our|the|their|this|that|his|her)\s+(?:[\w-]+\s+){0,2}?account\b|\brevoke\s+(?:all|every|each|the|my|our|their|these|those)\s+(?:[\w-]+\s+){0,2}?(?:keys?|tokens?|credentials|access|certificates?|sessions?|permissions)\b|\b(?:format|reformat|wipe)\s+(?:the|my|our|this|that)\s+(?:[\w-]+\s+){0,2}?(?:drive|disk|partition|sd\s*card|usb\s+stick|volume)\b"#),
        rule("delete", #"(?i)\bremove\s+(?:all|every|everything|(?:the|my|our|this|these|those)\s+(?:\w+\s+)?(?:files?|folders?|director(?:y|ies)|database|db|tables?|bucket|branch(?:es)?|repo(?:sitory)?|users?|accounts?|backups?|records?|rows?|data|emails?|messages?|notes?|vault|cluster|instances?|servers?|volumes?|history))\b|\bpermanently\s+(?:delete|remove|erase)\b|\bforce[- ]?push(?:ed|ing)?\b"#),
        rule("deploy", english(#"deploy|redeploy|publish|ship|release|roll\s+out|go\s+live|push\s+(?:it\s+)?to\s+(?:prod|production|live)"#)),
        rule("deploy", #"(?i)\b(?:deploy|release|ship|push|promote)\b[^\n.]{0,40}?\bto\s+(?:prod|production|live|staging|the\s+app\s+store|the\s+play\s+store|npm|pypi|crates\.io)\b|\bgo\s+live\b|\bmerge\s+(?:it\s+|this\s+)?(?:in)?to\s+(?:main|master|production)\b"#),
        rule("payment", english(#"pay|repay|prepay|refund|reimburse|purchase|buy|donate|transfer\s+(?:[$€£¥]|\d|money|funds|the\s+(?:money|funds|payment|amount|balance))"#)),
        rule("submit", english(#"submit|log\s+in(?:to)?|sign\s+in(?:to)?|sign\s+up|create\s+(?:an?|my|our|the|new)\s+account|register\s+(?:an?|my|our|the|new)\s+account|place\s+(?:an?|the|my|our)\s+order|subscribe"#)),
        rule("submit", #"(?i)\bsign\s+(?:me|us|them|him|her|my\s+\w+)\s+up\b"#),
        // Ordering goods ("Order 50 laptops", "order a new monitor"), not "in order to" nor "the order of".
        rule("payment", english(#"(?<!\bin\s)(?<!\bthe\s)order"#)),
        // Publishing a post where others read it.
        rule("deploy", #"(?i)\b(?:post|publish|share|tweet)\s+(?:[\w'-]+\s+){0,4}?(?:on|to)\s+(?:(?:our|my|the|their|your|his|her)\s+)?(?:company\s+)?(?:blog|website|web\s*site|site|twitter|x\.com|linkedin|facebook|instagram|mastodon|bluesky|reddit|forum|social\s+media|channel|newsletter|hacker\s+news)\b"#),
        rule("submit", #"(?i)\b(?:submit|send|post)\s+(?:the|this|that|a|an|its|their|my|our)\s+(?:[\w-]+\s+){0,2}?form\b|\bclick\s+(?:on\s+)?(?:the\s+)?["'“]?(?:submit|send|sign\s*up|sign\s*in|log\s*in|buy|order|pay|checkout|check\s*out|register|subscribe|confirm)\b"#),
        rule("payment", #"(?i)\b(?:send|transfer|wire|move)\s+(?:\w+\s+){0,2}?(?:[$€£¥]\s?\d|\d[\d,.]*\s?(?:k\s)?(?:usd|eur|gbp|chf|jpy|cny|dollars?|euros?|pounds?|francs?|yen|yuan|bucks|btc|eth)\b)|\b(?:make|process|issue|send|initiate)\s+(?:a|the)\s+(?:payment|refund|transfer|wire|purchase|donation)\b|\bwire\s+transfer\b|\bpay\s+(?:for|off|out|back)\b|\bcharge\s+(?:the\s+|my\s+|our\s+)?(?:card|credit\s+card|customer|client|account)\b"#),

        // German.
        rule("delete", #"(?i)(?<!\p{L})(?:lösche|löschen|lösch|löscht|entferne\s+(?:alle|sämtliche|den|die|das)|vernichte|vernichten)(?!\p{L})|(?<!\p{L})force-?push(?:e|en)?(?!\p{L})|erzwungen\w*\s+push"#),
        rule("deploy", #"(?i)(?<!\p{L})(?:deploye|deployen|deployt|ausrollen|rolle\s+\S+\s+aus|veröffentliche|veröffentlichen|veröffentlicht|bereitstellen|stelle\s+[^\n.]{0,40}?\s+bereit|live\s+schalten|schalte\s+[^\n.]{0,40}?\s+live|in\s+(?:die\s+)?produktion\s+(?:bringen|nehmen|übernehmen|schieben|deployen))(?!\p{L})"#),
        rule("payment", #"(?i)(?<!\p{L})(?:bezahle|bezahlen|bezahlt|zahle|zahlen\s+sie|überweise|überweisen|überweisung|erstatte|erstatten|rückerstattung|kaufe|kaufen|bestelle|bestellen|begleiche|begleichen)(?!\p{L})"#),
        // French.
        rule("delete", #"(?i)(?<!\p{L})(?:supprime|supprimer|supprimez|supprimons|efface|effacer|effacez|détruis|détruire|détruisez|vider|videz|purger|purgez)(?!\p{L})"#),
        rule("deploy", #"(?i)(?<!\p{L})(?:déploie|déployer|déployez|déployons|publie|publier|publiez|mets\s+en\s+prod\w*|mettre\s+en\s+prod\w*|mettez\s+en\s+prod\w*|mise\s+en\s+prod\w*|livre\s+en\s+prod\w*)(?!\p{L})"#),
        rule("payment", #"(?i)(?<!\p{L})(?:paie|paye|payer|payez|règle\s+la\s+facture|régler|virement|rembourse|rembourser|remboursez|remboursement|achète|acheter|achetez)(?!\p{L})|(?<!\p{L})vire[rz]?\s+(?:\d|€|\$|l'argent|les\s+fonds)"#),
        // Spanish.
        rule("delete", #"(?i)(?<!\p{L})(?:borra|borrar|borre|borren|elimina|eliminar|elimine|eliminen|suprime|suprimir|destruye|destruir|vacía|vaciar|purga|purgar)(?!\p{L})"#),
        rule("deploy", #"(?i)(?<!\p{L})(?:despliega|desplegar|despliegue|desplieguen|publica|publicar|publique|lanza\s+a\s+producción|pon\s+en\s+producción|poner\s+en\s+producción|sube\s+a\s+producción|subir\s+a\s+producción)(?!\p{L})"#),
        rule("payment", #"(?i)(?<!\p{L})(?:paga|pagar|pague|paguen|transfiere|transferir|transfiera|transferencia|reembolsa|reembolsar|reembolse|reembolso|compra|comprar|compre|abona|abonar)(?!\p{L})"#),
        // Chinese.
        rule("delete", #"删除|删掉|删了|清空|销毁|抹掉|抹除|强制推送|强推"#),
        rule("deploy", #"部署|上线|发布|发版|推送到生产|推到生产|上生产"#),
        rule("payment", #"付款|支付|转账|汇款|打款|退款|购买|下单|买下|缴费|付钱|付清"#),
        // Japanese.
        rule("delete", #"削除|消して|消去|破棄|全部消|ワイプ|強制プッシュ|フォースプッシュ"#),
        rule("deploy", #"デプロイ|リリース(?!ノート)|公開して|公開する|公開を|本番(?:環境)?に(?:反映|適用|出|リリース|デプロイ)|パブリッシュ"#),
        rule("payment", #"支払|払って|払う|振り込|振込|送金|返金|購入|買って|注文して|決済"#),
    ]

    /// `text` with each `/* … */` replaced by a space, in one pass, each `*/` closing the nearest
    /// `/*` before it. The expression this replaces (`/\*[\s\S]*?\*/`) read to the end of the text
    /// from every `/*` with no `*/` after it (a task of 12,000 globs, `~/code/x/*.ts`, took 20 s to
    /// route), and a glob's `/*` opened a "comment" that ate `DROP` in `DROP/**/TABLE` further on.
    static func withoutBlockComments(_ text: String) -> String {
        var result = ""
        var rest = text[...]
        while let close = rest.range(of: "*/") {
            let before = rest[..<close.lowerBound]
            if let open = before.range(of: "/*", options: .backwards) {
                result += rest[..<open.lowerBound]
                result += " "
            } else {
                result += rest[..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        result += rest
        return result
    }

    /// The last texts inferred, with their effects: routing asks for the same task text more than once
    /// in a row (a rule's `when_effects`, then the side-effects guardrail; both again after a budget
    /// fallback), and the patterns cost about 1.4 ms a KB (a 350 KB task: half a second each time).
    /// Compared by the whole text, byte for byte, never by a hash: a text made to collide with a
    /// harmless one must not inherit its verdict.
    private static let recent = Locked<[(text: String, effects: [InferredEffect])]>([])
    /// How many texts `recent` keeps, and the most bytes they may hold together (a longer text is
    /// inferred each time rather than kept in a watcher's memory).
    static let recentLimit = (count: 2, bytes: 1 << 20)

    /// The risky effects `raw` asks for, one per effect (first evidence), in `delete`, `deploy`,
    /// `payment`, `submit` order.
    public static func infer(_ raw: String) -> [InferredEffect] {
        // Byte for byte: Swift's `==` holds canonically equivalent texts equal (`ö` and `o` + U+0308).
        let bytes = raw.utf8.count
        if let known = recent.withLock({ $0.first { $0.text.utf8.count == bytes && $0.text.utf8.elementsEqual(raw.utf8) }?.effects }) { return known }
        let effects = inferAnew(raw)
        guard bytes <= recentLimit.bytes else { return effects }
        recent.withLock { recent in
            recent.insert((raw, effects), at: 0)
            var held = 0
            recent = Array(recent.prefix { entry in
                held += entry.text.utf8.count
                return held <= recentLimit.bytes
            }.prefix(recentLimit.count))
        }
        return effects
    }

    private static func inferAnew(_ raw: String) -> [InferredEffect] {
        var found: [String: InferredEffect] = [:]
        // The words as a model reads them: no invisible characters, full-width letters folded, a
        // combining mark after an ASCII letter dropped (`de\u{301}lete` reads "delete").
        search(ScanView.views(of: raw, normalisedOnly: true)[0].text, into: &found)
        // That view also turns a decomposed `lo\u{308}sche` (as macOS and some editors write
        // accents) into "losche", which no pattern knows. A second view reads it as a model does:
        // invisible characters out (so `o` + U+200B + U+0308 still composes), composed (NFC) into
        // "lösche", then any mark left over dropped (`ö` + U+0301 reads "ö"). It only adds what it
        // finds; it is made when the text has combining marks at all.
        if raw.unicodeScalars.contains(where: ScanView.isCombiningMark) {
            var visible = String.UnicodeScalarView()
            visible.append(contentsOf: raw.unicodeScalars.lazy.filter { !ScanView.isInvisible($0) })
            var composed = String.UnicodeScalarView()
            composed.append(contentsOf: String(visible).precomposedStringWithCanonicalMapping.unicodeScalars.lazy.filter { !ScanView.isCombiningMark($0) })
            search(ScanView.views(of: String(composed), normalisedOnly: true)[0].text, into: &found)
        }
        return ["delete", "deploy", "payment", "submit"].compactMap { found[$0] }
    }

    /// Runs every rule whose effect is not in `found` yet over `view`, keeping the first evidence.
    private static func search(_ view: String, into found: inout [String: InferredEffect]) {
        // SQL comments (`DROP/**/TABLE`) and shell quote games (`r''m`, `r\m`) taken out.
        var text = view
        if text.contains("/*") { text = withoutBlockComments(text) }
        if text.contains("''") || text.contains("\"\"") || text.contains("\\") {
            text = text.replacingOccurrences(of: "''", with: "").replacingOccurrences(of: "\"\"", with: "").replacingOccurrences(of: "\\", with: "")
        }
        run(rules, on: text, into: &found)
        // Quotes a shell takes out: `'rm' -rf /srv`, `r"m" -rf`, `g'i't push --force`.
        if text.contains("'") || text.contains("\"") || text.contains("`") {
            let unquoted = String(text.unicodeScalars.filter { $0 != "'" && $0 != "\"" && $0 != "`" }.map(Character.init))
            run(commandRules, on: unquoted, into: &found)
        }
    }

    private static func run(_ rules: [Rule], on text: String, into found: inout [String: InferredEffect]) {
        let ns = text as NSString
        let whole = NSRange(location: 0, length: ns.length)
        for rule in rules where found[rule.effect] == nil {
            guard let match = rule.regex.firstMatch(in: text, range: whole) else { continue }
            found[rule.effect] = InferredEffect(effect: rule.effect, evidence: evidence(ns.substring(with: match.range)))
        }
    }

    /// The matched words as shown in a verdict: without the lead-in (`please `, `. `), one line, short.
    private static func evidence(_ raw: String) -> String {
        var words = raw.components(separatedBy: .whitespacesAndNewlines).filter { !$0.isEmpty }
        let leadWords: Set<String> = ["please", "pls", "then", "and", "now", "also", "first", "finally", "must", "should", "can", "could", "will", "would", "you", "go", "ahead", "need", "want", "to", "i", "let's", "lets", "just", "immediately", "asap", "quickly", "-", "*", ">", "•"]
        while words.count > 1, leadWords.contains(words[0].lowercased()) { words.removeFirst() }
        // A long match (`git push https://… --force`) is shown by its ends only: the middle may hold
        // a URL or path that has no place in a verdict.
        if words.count > 3 { words = [words[0], words[1], "…", words[words.count - 1]] }
        var text = words.map { $0.count > 24 ? String($0.prefix(24)) + "…" : $0 }.joined(separator: " ")
        text = text.trimmingCharacters(in: CharacterSet(charactersIn: ".!?;:(*>•, "))
        return text
    }

    /// One line for a verdict: `inferred delete from "rm -rf", payment from "überweise"`.
    public static func describe(_ inferred: [InferredEffect]) -> String {
        "inferred " + inferred.map { "\($0.effect) from \"\($0.evidence)\"" }.joined(separator: ", ")
    }
}
