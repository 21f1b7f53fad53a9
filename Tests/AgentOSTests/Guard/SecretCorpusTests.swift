import Foundation
import Testing
@testable import AgentOS

/// A corpus of secrets in the shapes the well-known scanners know (cloud credentials files, JWTs,
/// package-registry tokens, provider keys, generic assignments, connection strings, private keys),
/// written the way people paste them — and near misses that must not count. Every secret-looking value
/// is generated at run time, so the repository itself holds nothing a push-protection scanner would flag.
@Suite struct SecretCorpusTests {
    /// Deterministic random text (an LCG), so each run checks the same corpus.
    final class Gen {
        private var state: UInt64
        init(_ seed: UInt64) { state = seed }
        private func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        func pick(_ n: Int, _ alphabet: String) -> String {
            let chars = Array(alphabet)
            return String((0..<n).map { _ in chars[next() % chars.count] })
        }
        func alnum(_ n: Int) -> String { pick(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") }
        func hex(_ n: Int) -> String { pick(n, "0123456789abcdef") }
        func b64(_ n: Int) -> String { pick(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") }
        func url64(_ n: Int) -> String { pick(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") }
        func upper(_ n: Int) -> String { pick(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") }
    }

    static func j(_ parts: String...) -> String { parts.joined() }

    /// A positive: a name, the secret (as it appears once invisible characters and line breaks are
    /// ignored) and the prompt holding it.
    struct Positive: CustomStringConvertible {
        let name: String
        let secret: String
        let prompt: String
        var description: String { name }
    }

    static let positives: [Positive] = {
        let g = Gen(20261202)
        var list: [Positive] = []
        func add(_ name: String, _ secret: String, _ prompt: (String) -> String) { list.append(Positive(name: name, secret: secret, prompt: prompt(secret))) }
        let jwt = j("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".", "eyJzdWIiOiI", g.url64(30), ".", g.url64(43))

        // Cloud credentials.
        add("AWS access key ID", j("AKIA", g.upper(16))) { "aws creds: \($0) please check" }
        add("AWS credentials file secret", g.b64(40)) { "[default]\naws_access_key_id = \(j("AKIA", g.upper(16)))\naws_secret_access_key = \($0)\nregion = eu-west-1\n" }
        add("AWS credentials file session token", g.b64(120)) { "[tmp]\naws_session_token=\($0)\n" }
        add("AWS env secret", g.b64(40)) { "export AWS_SECRET_ACCESS_KEY=\($0)\n" }
        add("AWS STS JSON", g.b64(40)) { "{\"Credentials\": {\"AccessKeyId\": \"ASIA\(g.upper(16))\", \"SecretAccessKey\": \"\($0)\"}}" }
        add("GCP service account private key", g.b64(64)) { "{\n  \"type\": \"service_account\",\n  \"private_key_id\": \"\(g.hex(40))\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEv\($0)\\n-----END PRIVATE KEY-----\\n\"\n}" }
        add("Azure storage connection string", g.b64(86) + "==") { "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=\($0);EndpointSuffix=core.windows.net" }
        add("Azure SAS signature", g.alnum(43) + "%3D") { "https://acme.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=\($0)" }
        add("Azure service bus key", g.b64(44)) { "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=\($0)" }
        add("Azure AD client secret", j(g.alnum(3), "8Q~", g.url64(34))) { "client secret is \($0) for the app" }
        add("DigitalOcean token", j("dop_v1_", g.hex(64))) { "doctl auth init -t \($0)" }
        add("Databricks token", j("dapi", g.hex(32))) { "DATABRICKS host token \($0)" }
        // JWTs.
        add("JWT in prose", jwt) { "the session is \($0) — can you decode it?" }
        add("JWT in YAML", jwt) { "auth:\n  id_token: \($0)\n" }
        add("JWT in a cookie", jwt) { "Cookie: session=\($0); Path=/" }
        add("JWT bearer", jwt) { "curl -H 'Authorization: Bearer \($0)' https://api.example.com" }
        // Package registries.
        add("npm _authToken (npmrc)", j("npm_", g.alnum(36))) { "//registry.npmjs.org/:_authToken=\($0)\n" }
        add("npm _authToken legacy UUID", "5b3c1e2a-8d4f-4a6b-9c7e-0f1a2b3c4d5e") { "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=\($0)\n" }
        add("npm token alone", j("npm_", g.alnum(36))) { "publish with \($0)" }
        add("npm _auth", g.b64(24) + "==") { "_auth = \($0)\nalways-auth=true" }
        add("PyPI token", j("pypi-AgEIcHlwaS5vcmc", g.url64(60))) { "twine upload -u __token__ -p \($0) dist/*" }
        add("pypirc password", "Qw7" + g.alnum(12)) { "[pypi]\nusername = bob\npassword = \($0)\n" }
        add("RubyGems key", j("rubygems_", g.hex(48))) { "---\n:rubygems_api_key: \($0)\n" }
        add("Docker config auth", g.b64(32) + "=") { "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"\($0)\"}}}" }
        // Source hosting.
        add("GitHub classic token", j("ghp", "_", g.alnum(36))) { "push with \($0) to the repo" }
        add("GitHub fine-grained token", j("github", "_pat_", g.alnum(22), "_", g.alnum(59))) { "token \($0)" }
        add("GitLab personal token", j("glpat", "-", g.url64(20))) { "git clone https://oauth2:\($0)@gitlab.com/acme/app.git" }
        add("GitLab runner token", j("GR1348941", g.url64(20))) { "runner registration \($0)" }
        // Chat, payments, services.
        add("Slack bot token", j("xo", "xb-", "1234567890-", g.alnum(24))) { "post to slack using \($0)" }
        add("Slack webhook", j("T0", g.upper(8), "/B0", g.upper(8), "/", g.alnum(24))) { "webhook: https://hooks.slack.com/services/\($0)" }
        add("Stripe live secret key", j("sk", "_live_", g.alnum(24))) { "Stripe.api_key = '\($0)'" }
        add("Stripe restricted key", j("rk", "_live_", g.alnum(24))) { "use \($0) for the report job" }
        add("Stripe webhook secret", j("whsec", "_", g.alnum(32))) { "STRIPE_WEBHOOK=\($0)" }
        add("Twilio API key", j("SK", g.hex(32))) { "twilio api key \($0)" }
        add("Twilio auth token (env)", g.hex(32)) { "TWILIO_AUTH_TOKEN=\($0)\n" }
        add("SendGrid key", j("SG", ".", g.url64(22), ".", g.url64(43))) { "sendgrid: \($0)" }
        add("Hugging Face token", j("hf", "_", g.alnum(34))) { "huggingface-cli login --token \($0)" }
        add("Google API key", j("AI", "za", g.url64(35))) { "maps key \($0) in the config" }
        add("Google OAuth client secret", j("GOCSPX", "-", g.url64(28))) { "client_secret GOCSPX for the app is \($0)" }
        add("Google OAuth access token", j("ya29", ".", g.url64(60))) { "access token \($0)" }
        add("Anthropic key", j("sk-", "ant-", "api03-", g.url64(80))) { "Use the key \($0) to call the API." }
        add("OpenAI project key", j("sk-", "proj-", g.alnum(48))) { "OPENAI key is \($0)" }
        add("Discord bot token", j("M", g.alnum(23), ".", g.url64(6), ".", g.url64(27))) { "discord bot \($0)" }
        add("Discord webhook", j("1234567890123/", g.url64(68))) { "https://discord.com/api/webhooks/\($0)" }
        add("Telegram bot token", j("123456789:AA", g.url64(33))) { "telegram bot token: \($0)" }
        add("Shopify access token", j("shpat", "_", g.hex(32))) { "shopify \($0)" }
        add("Mailgun key", j("key", "-", g.alnum(32))) { "mailgun \($0)" }
        add("age secret key", j("AGE-SECRET-KEY-1", g.upper(58))) { "# created: 2026\n\($0)\n" }
        // Generic assignments.
        add("YAML api_key", g.alnum(32)) { "service:\n  api_key: \($0)\n" }
        add("YAML token", g.alnum(40)) { "token: \($0)\n" }
        add("YAML secret (quoted)", g.alnum(24)) { "secret: \"\($0)\"\n" }
        add("YAML list item", g.hex(40)) { "keys:\n  - access_token: \($0)\n" }
        add("INI api_key", g.alnum(28)) { "[service]\napi_key = \($0)\n" }
        add("TOML secret_key", g.b64(44)) { "[auth]\nsecret_key = \"\($0)\"\n" }
        add("JSON apiKey", g.alnum(32)) { "{\"apiKey\": \"\($0)\", \"debug\": false}" }
        add("Python dict secret", g.alnum(30)) { "settings = {'client_secret': '\($0)'}" }
        add(".env API token", "abcdef123456") { "export API_TOKEN=\"\($0)\"\n" }
        add(".env secret key", "d8f7a6s5d4f3") { "here is my .env:\nSTRIPE_SECRET_KEY=\($0)\nDEBUG=1\n" }
        add("YAML token with CRLF line ends", g.alnum(30)) { "name: app\r\ntoken: \($0)\r\nport: 8080\r\n" }
        add("single-quoted YAML api_key", g.alnum(30)) { "  api_key: '\($0)'  # prod\n" }
        add("properties auth token", g.alnum(26)) { "app.auth.token=\($0)\n" }
        add("XML password", "Xy7" + g.alnum(10)) { "<config><password>\($0)</password></config>" }
        add("CLI token flag", g.alnum(32)) { "run deploy-tool --token \($0) --verbose" }
        add("prose api key", g.alnum(28)) { "btw my API key is \($0), use it" }
        // Round 47: words between the key word and `is`, passphrases, and AWS secret keys in prose.
        add("prose password after a word", "tangerine-walrus-42") { "For the router, log in as admin; my password there is \($0) and the PIN is 7719." }
        add("prose password after three words", "Zq8#vLp2!mRt") { "The admin password for the NAS is \($0)" }
        add("prose passphrase", "purple-monkey-dishwasher-77") { "the vault passphrase is \"\($0)\"." }
        add("prose passphrase of words", "correct-horse-battery-staple") { "my passphrase: \($0)" }
        add("AWS secret in prose", g.b64(40)) { "AWS secret for flamingo: \($0)" }
        add("AWS secret after its key ID", g.b64(40)) { "Use \(j("AKIA", g.upper(16))) with secret \($0) for the backups." }
        // Round 48: marks around the value, words after `is`, host names between.
        add("prose password in smart quotes", "Qx7vLp2mRt") { "The admin password is “\($0)”." }
        add("prose password in single smart quotes", "Qx7vLp2mRs") { "password is ‘\($0)’" }
        add("prose secret in guillemets", "Qx7vLp2mRt9zKw") { "the secret is «\($0)»" }
        add("prose password in bold", "Zq8vLp2mWk") { "my Gmail password is **\($0)**" }
        add("prose password in brackets", "Qx7vLp2mRu") { "password is [\($0)]" }
        add("prose password in parentheses", "Qx7vLp2mRv") { "password is (\($0))" }
        add("prose password after is:", "Qx7vLp2mRw") { "my password is: \($0)" }
        add("prose password is now", "Hb4nPz9qTr") { "the NAS password is now \($0)." }
        add("prose password changed to", "tangerine-walrus-43") { "the password was changed to \($0)" }
        add("prose password for a host", "tangerine-walrus-44") { "the password for gmail.com is \($0)" }
        add("prose password after four words", "tangerine-walrus-45") { "the wifi password at my mom's house is \($0)" }
        add("prose password has been changed to", "Kx7vLp2mRz") { "the admin password has been changed to \($0) today" }
        add("prose password was updated to", "Kx7vLp2mRy") { "The root password was updated to \($0)." }
        add("prose password for an address", "tangerine-walrus-46") { "the password for bob@example.com is \($0)" }
        add("prose password for a user name", "Kx7vLp2mRx") { "password for db_admin is \($0)" }
        // Round 50: a password for an account named by a word that also names an attribute, and
        // the ways of writing it the prose rules missed.
        add("prose password for a password manager", "Kd7$wQp3@nLx") { "The password for my password manager is \($0)." }
        add("prose password of a vault", "Tangerine-Walrus-47") { "The master password of my vault is \($0)." }
        add("prose password for an app", "Zq8#vLp2!mRt") { "The password for the banking app is \($0)" }
        add("prose password for a box", "Zq8#vLp2!mRu") { "The password for the Synology box is \($0)" }
        add("prose password changed to, active", "Zq8#vLp2!mRv") { "I changed my Gmail password to \($0) yesterday." }
        add("prose password set to", "Zq8#vLp2!mRw") { "We set the wifi password to \($0) for guests" }
        add("prose password reset to", "tangerine-walrus-48") { "I reset the password to \($0)" }
        add("prose password with an aside in brackets", "Zq8#vLp2!mRx") { "The password (for the NAS) is \($0)" }
        add("prose password with an aside in commas", "Zq8#vLp2!mRy") { "the password, as of today, is \($0)" }
        add("prose password's", "Zq8#vLp2!mRz") { "my password's \($0) now" }
        add("prose password will be", "Hb4^tYr8*eMz") { "the password will be \($0) from Monday" }
        add("prose password became", "Hb4^tYr8*eMy") { "the admin password became \($0)" }
        add("prose password in <kbd>", "Hb4^tYr8*eMx") { "The password is <kbd>\($0)</kbd>" }
        add("prose password after an arrow", "Hb4^tYr8*eMw") { "Password → \($0)" }
        add("French mot de passe", "Hb4^tYr8*eMv") { "mot de passe : \($0)" }
        // Round 51: a description word after a value that looks like one does not hide it; more ways to write it.
        add("prose password then only", "Kd7$wQp3@nLy") { "The guest wifi password is \($0) only until Friday" }
        add("prose password with -protected joined", "Zq8vLp2mRtWx") { "The password is \($0)-protected" }
        add("French le mot de passe est", "Hb4^tYr8*eMu") { "Le mot de passe est \($0)" }
        add("German das Passwort ist", "Hb4^tYr8*eMt") { "Das Passwort ist \($0)" }
        add("Spanish la contraseña es", "Hb4^tYr8*eMs") { "La contraseña es \($0)" }
        add("password for an account then a colon", "Hb4^tYr8*eMr") { "Password for NAS: \($0)" }
        add("password changed from one to another", "Hb4^tYr8*eMq") { "I changed my password from Hunter22x to \($0)" }
        add("password should be", "Hb4^tYr8*eMp") { "The password should be \($0) from now on" }
        add("value first, then my password", "Hb4^tYr8*eMo") { "\($0) is my Gmail password." }
        add("passphrase first, then our password", "tangerine-walrus-49") { "\($0) is our wifi password" }
        add("passphrase ending in a word of description", "purple-monkey-proof") { "My password is \($0)" }
        add("passphrase with a number and a word after", "Sunset-Beach-42-Safe") { "My password is \($0)" }
        add("password after an arrow, strong", "Hb4^tYr8*eMn") { "Password → \($0)" }
        // Round 52: the active form and a word after the value take passwords that are no scheme's name.
        add("active form, passphrase of words", "correct-horse-battery-staple") { "I changed my password to \($0)" }
        add("active form, word and year", "Summer2024") { "We set the wifi password to \($0)" }
        add("active form, with an ampersand", "Tr0ub4dor&3") { "I changed my password to \($0)" }
        add("active form, a dot", "Fluffy.2019") { "I changed my password to \($0)" }
        add("arrow, capital code", "X7K9-P2M4-Q8R3") { "Password → \($0)" }
        add("word and year then only", "Coffee2024") { "The guest WiFi password is \($0) only on weekends" }
        add("capital code then only", "7XQ4K2PL") { "The password is \($0) only until the reset" }
        add("word and year joined to only", "Summer2024") { "The password is \($0)-only" }
        // Round 53: a product's or scheme's name with a year is a password; so is a capitalised "measure".
        add("product name and year, active form", "Bitwarden2024!") { "I changed my password to \($0)" }
        add("scheme name and year after an arrow", "Argon2id2024") { "Password → \($0)" }
        add("product name and year then only", "Bitwarden2024") { "My password is \($0) only until Friday." }
        add("capitalised words with a number and a unit", "Gone-in-60-Minutes") { "My password is \($0)" }
        add("product name, year, description word", "Bitwarden-2024-safe") { "My password is \($0)" }
        add("scheme name, year, description word", "Argon2id-2024-encoded") { "My password is \($0)" }
        // Round 53 (low): opening marks of Spanish and signs were no part of a value, and a value
        // holding marks was cut under eight characters; Polish says `to`. Round 54: a value with
        // `:` `,` `;` `?` `|` inside is judged by its parts (times and lists are no passwords).
        add("a colon inside", "Zq8:vLp2") { "My password is \($0) now" }
        add("a colon inside, longer", "Zq8:vLp2mRt") { "My password is \($0) — log in and fix it." }
        add("a comma inside", "Kd7,wQp3") { "The password was \($0) until today" }
        add("a semicolon inside", "Kd7;wQp3nLx") { "My password is \($0)" }
        add("a question mark inside", "Ab?9xQ2!kL") { "The wifi password is \($0)" }
        add("a bar inside", "Ab|9xQ2!kLm") { "Password for NAS: \($0)" }
        add("marks of several kinds", "k9:Tq,4w;Zp") { "My password is \($0)" }
        // Round 56: a part holding another mark is no plain word (`Dragon!1987`), a unit is small
        // letters or a known one (`4Xz` is none), and the value may come first.
        add("word, mark, year, colon, word", "Dragon!1987:Fire") { "My password is \($0)" }
        add("word, mark, year, comma, word", "Summer#2024,Beach") { "Das Passwort ist \($0)" }
        add("a word's call with a password inside", "summer(Beach!2024)") { "The password is \($0)" }
        add("random groups with colons", "7Qp:4Xz:9Lm") { "The wifi password is \($0)" }
        add("a colon inside, value first", "Zq8:vLp2mRt") { "\($0) is my Gmail password." }
        // Round 57: a word with a long number, and letters between digits, are no version or unit.
        add("word and digits, colon, word", "pass1234:admin") { "My password is \($0)" }
        add("keyboard walk with a colon", "1qaz2wsx:3edc") { "My password is \($0)" }
        add("two keyboard words", "zxcv1234:asdf5678") { "The password is \($0)" }
        add("French pet names", "chat2024:chien") { "Le mot de passe est \($0)" }
        add("Spanish with a bar", "gato1987|perro") { "La contraseña es \($0)" }
        add("question mark between words", "cafe2024?latte") { "The password for gmail.com is now \($0)" }
        add("Spanish opening exclamation", "¡Madrid2024!") { "La contraseña es \($0)" }
        add("Spanish opening question mark", "¿Qué2024?") { "La contraseña es \($0)" }
        add("section sign first", "§Sommer2024") { "Das Passwort ist \($0)" }
        add("euro sign first", "€uro2024!") { "Mot de passe : \($0)" }
        add("a bracket inside", "Ab(3x)9Yz") { "The password is \($0)" }
        add("Polish to", "Żółw2024!") { "Moje hasło to \($0)" }
        add("Polish to after whose", "Routerek#77") { "Hasło do Wi-Fi to \($0)" }
        // Round 54: a short scheme name takes only its own numbers, an English word first is no
        // description, a scheme's call with a password inside is a value, Polish names more words.
        add("x and a number, twice", "X1234-X5678-X9012") { "I changed the password to \($0)" }
        add("md and ed with numbers", "Md5555-Ed1234") { "Password → \($0)" }
        add("an English word before a scheme", "Strong-AES256") { "My password is \($0)" }
        add("secured before a numbered scheme", "Secured-Bcrypt12") { "The password is \($0)" }
        add("a password inside a scheme's call", "Argon2id(Zq8vLp2mRt)") { "The password is \($0)" }
        add("Polish, three words after do", "Pies#Burek2024") { "Hasło do konta Gmail to \($0)" }
        add("Polish to teraz", "Kot#Mruczek77") { "Hasło to teraz \($0)" }
        add("Polish, five words after do, teraz and a colon", "Lis#Rudy2024") { "Hasło do mojego starego konta Gmail to teraz: \($0)" }
        // Round 58: the marks a value ends or starts with are judged with it (`Summer;2024!` is no
        // list of a word and a year), `#` and `=` join no parts of a password, and a secret store's
        // scheme that is a common word (`secret:`, `pass:`) is no reference to a password behind it.
        add("word and year, semicolon, exclamation", "Summer;2024!") { "My Gmail password is \($0) — log in and summarize my inbox." }
        add("German, word and year, colon, exclamation", "Sommer:2024!") { "Das Passwort ist \($0)" }
        add("Polish, word and year, comma, exclamation", "Lato,2024!") { "Hasło to \($0)" }
        add("Portuguese, word and year, bar, exclamation", "Verao|2024!") { "A senha é \($0)" }
        add("value first, semicolon, exclamation", "Summer;2024!") { "\($0) is my Gmail password." }
        add("opening exclamation before a list", "!Summer;2024") { "My password is \($0)" }
        add("three parts and an exclamation", "Dragon:Fire:1987!") { "My password is \($0)" }
        add("hash between capitalised words", "Summer#Fun:2024") { "My password is \($0)" }
        add("hash between small words", "summer#fun:2024") { "My password is \($0)" }
        add("French hash", "Amour#Toujours:2024") { "Le mot de passe est \($0)" }
        add("equals between capitalised words", "Dragon=Fire:1987") { "My password is \($0)" }
        add("equals between small words", "love=forever:2024") { "My password is \($0)" }
        add("Polish equals", "Smok=Wawel:1987") { "Hasło to \($0)" }
        add("secret scheme before a password", "secret:Hunter2024!") { "My password is \($0)" }
        add("capitalised secret scheme", "Secret:Zq8#vLp2mRt") { "The password is \($0)" }
        add("pass scheme in an assignment", "pass:Tr0ub4dor&3") { "password: \($0)\n" }
        add("env scheme quoted in an assignment", "env:Zq8#vLp2mRt") { "password = \"\($0)\"\n" }
        add("age scheme before random letters", "age:42Zq8vLp") { "My password is \($0)" }
        add("file scheme before random letters", "file:Zq8vLp2mRt") { "The password is \($0)" }
        add("German secret scheme", "secret:Sommer2024!") { "Das Passwort ist \($0)" }
        // Round 58: Italian `è`, words between the password word and its verb in other languages,
        // `lautet`, `jetzt`, `ahora`, and no verb at all ("use password …").
        add("Italian è", "Juventus1897!") { "La password è \($0)" }
        add("Italian, my", "Zq8vLp2mRt") { "La mia password è \($0)" }
        add("German words before ist", "Sparkasse2024!") { "Das Passwort für die Bank ist \($0)" }
        add("French words before est", "Chat#Noir77") { "Le mot de passe du wifi est \($0)" }
        add("Spanish words before es", "Banco!2024") { "La contraseña del banco es \($0)" }
        add("Portuguese words before é", "Xk9mP2qL7") { "A senha do servidor é \($0)" }
        add("German lautet", "Geheim!2024") { "Das Passwort lautet \($0)" }
        add("German ist jetzt", "Fussball#1990") { "Mein Passwort ist jetzt \($0)" }
        add("Spanish ahora es", "Futbol#10") { "Mi contraseña ahora es \($0)" }
        add("use password", "Hunter2024!") { "Use password \($0) to log in" }
        add("with password", "S3cure!Pass") { "Log in as admin with password \($0)" }
        add("German benutze das Passwort", "Mauer!1989") { "Benutze das Passwort \($0) für den Login." }
        add("Spanish usa la contraseña", "Luna-Roja-42") { "Usa la contraseña \($0) para entrar." }
        // Round 58 (attack114): a word with a year is no list, and a common word as a scheme is no
        // reference without a reference's marks.
        add("small word and year with a colon", "summer:2024") { "My password is \($0)" }
        add("German word and year with a semicolon", "sommer;2024") { "Das Passwort ist \($0)" }
        add("secret scheme before a word and year", "secret:Dragon-1987") { "My password is \($0) - summarize my week plan." }
        add("secret scheme in an assignment", "secret:Dragon-1987") { "password: \($0)\n" }
        add("secret scheme before a small word and year", "secret:summer-2024") { "password: \($0)\n" }
        // Round 59 (attack116): a placeholder's word inside a password is no placeholder, a mark
        // first with more marks after it is no reference, and more languages' words.
        add("here inside a word", "Sphere2024!") { "My password is \($0)" }
        add("your inside a word", "Yourself2024!") { "The password is \($0)" }
        add("at sign first", "@dmin2024!") { "My password is \($0)" }
        add("Polish użyj hasła", "Kot#Burek77") { "Użyj hasła \($0) do logowania." }
        add("Italian password del server", "Roma#2024x") { "Password del server: \($0)" }
        add("German heißt", "Adler!1990") { "Das Passwort heißt \($0)" }
        add("French désormais", "Lune#Bleue9") { "Le mot de passe est désormais \($0)" }
        add("try password", "Hunter2024!") { "Try password \($0) first" }
        add("query string api_key", g.alnum(32)) { "GET https://api.example.com/v1/items?api_key=\($0)&page=2" }
        // Passwords and connection strings.
        add("YAML db_password", "Tr0ub4dor") { "config:\n  db_password: \($0)\n" }
        add("password= anywhere", "s3cr3t-P4ss") { "login with user=bob password=\($0) today" }
        add("JDBC password", "S3cretPw9") { "jdbc:mysql://db:3306/app?user=app&password=\($0)" }
        add(".NET connection string", "Str0ngPass9") { "Server=db;Database=app;User Id=sa;Password=\($0);" }
        add("postgres URL", "hunter2pass") { "connect to postgres://admin:\($0)@db.example.com/prod" }
        add("mongodb+srv URL", g.alnum(16)) { "MONGO_URI=mongodb+srv://app:\($0)@cluster0.abcde.mongodb.net/db" }
        add("redis URL without user", "r3dis" + g.alnum(8)) { "redis://:\($0)@cache:6379/0" }
        add("curl -u", "pa55" + g.alnum(8)) { "curl -u alice:\($0) https://api.example.com" }
        add(".netrc", "n3trc" + g.alnum(8)) { "machine api.example.com login bob password \($0)" }
        add("basic auth header", g.b64(24) + "=") { "Authorization: Basic \($0)" }
        add("bearer token", g.alnum(40)) { "Authorization: Bearer \($0)" }
        // Private keys.
        add("RSA private key", g.b64(64)) { "my key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\($0)\n\(g.b64(64))\n-----END RSA PRIVATE KEY-----\nthanks" }
        add("OpenSSH private key", g.b64(70)) { "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\($0)\n-----END OPENSSH PRIVATE KEY-----" }
        add("EC private key", g.b64(60)) { "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\($0)\n-----END EC PRIVATE KEY-----" }
        add("PGP private key block", g.b64(64)) { "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\($0)\n-----END PGP PRIVATE KEY BLOCK-----" }
        add("PuTTY private key", g.b64(64)) { "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: bob\nPublic-Lines: 1\nAAAAB3NzaC1yc2E\nPrivate-Lines: 1\n\($0)\nPrivate-MAC: \(g.hex(64))\n" }
        add("private key without an end line", g.b64(64)) { "-----BEGIN PRIVATE KEY-----\nMIIEv\($0)" }
        // Obfuscated: split over lines, invisible characters inside, full-width letters.
        let anthropic = j("sk-", "ant-", "api03-", g.url64(60))
        add("Anthropic key split over two lines", anthropic) { s in String(s.prefix(30)) + "\n" + String(s.dropFirst(30)) + " is my key" }
        add("key split right after its prefix", anthropic) { s in "key: " + String(s.prefix(9)) + "\n" + String(s.dropFirst(9)) }
        add("JWT wrapped over three lines", jwt) { s in "token follows\n" + String(s.prefix(40)) + "\n" + String(s.dropFirst(40).prefix(40)) + "\n" + String(s.dropFirst(80)) + "\nend" }
        add("GitHub token split with a backslash", j("ghp", "_", g.alnum(36))) { s in "export GH=\"" + String(s.prefix(20)) + "\\\n  " + String(s.dropFirst(20)) + "\"" }
        add("YAML api_key wrapped", g.alnum(64)) { s in "api_key: " + String(s.prefix(32)) + "\n  " + String(s.dropFirst(32)) + "\n" }
        add("zero-width space in an Anthropic key", anthropic) { s in "key " + String(s.prefix(12)) + "\u{200B}" + String(s.dropFirst(12)) }
        add("zero-width joiners in a GitHub token", j("ghp", "_", g.alnum(36))) { s in "use " + s.enumerated().map { $0.offset % 5 == 4 ? "\u{200D}" + String($0.element) : String($0.element) }.joined() }
        add("soft hyphen in an AWS key ID", j("AKIA", g.upper(16))) { s in "id " + String(s.prefix(4)) + "\u{00AD}" + String(s.dropFirst(4)) }
        add("word joiner and BOM in a JWT", jwt) { s in String(s.prefix(20)) + "\u{2060}" + String(s.dropFirst(20).prefix(30)) + "\u{FEFF}" + String(s.dropFirst(50)) }
        add("bidi controls in a Stripe key", j("sk", "_live_", g.alnum(24))) { s in "\u{202E}" + String(s.prefix(8)) + "\u{2066}\u{2069}" + String(s.dropFirst(8)) + "\u{202C}" }
        add("zero-width space in a YAML token", g.alnum(32)) { s in "token: " + String(s.prefix(10)) + "\u{200B}\u{200C}" + String(s.dropFirst(10)) + "\n" }
        add("zero-width inside npm _authToken", j("npm_", g.alnum(36))) { s in "//registry.npmjs.org/:_auth\u{200B}Token=" + s }
        add("full-width Anthropic prefix", anthropic) { s in "key " + "ｓｋ－ａｎｔ－" + String(s.dropFirst(7)) }
        // Markdown and HTML around or inside a key, as converters (Notion export, pandoc, turndown)
        // write them and Obsidian renders them: the fourth outside attack sent each of these.
        add("GitHub token in __bold__", j("ghp", "_", g.alnum(36))) { "The credential for prod deploys is __\($0)__ today." }
        add("AWS key ID in _italics_", j("AKIA", g.upper(16))) { "and AWS _\($0)_ too" }
        add("GitHub token after a word and an underscore", j("ghp", "_", g.alnum(36))) { "old_\($0) was revoked" }
        add("Slack token in _italics_", j("xo", "xb-", g.hex(12), "-", g.alnum(24))) { "bot _\($0)_" }
        add("Anthropic key in _italics_", j("sk-", "ant-", "api03-", g.url64(40))) { "use _\($0)_ now" }
        add("Stripe key with escaped underscores", j("sk", "_live_", g.alnum(24))) { s in "Stripe one is " + s.replacingOccurrences(of: "_", with: "\\_") + " and more" }
        add("AWS key ID with an escaped letter", j("AKIA", g.upper(16))) { s in "id " + String(s.prefix(4)) + "\\" + String(s.dropFirst(4)) }
        add("GitHub token with an HTML span inside", j("ghp", "_", g.alnum(36))) { s in "token " + String(s.prefix(14)) + "<span>" + String(s.dropFirst(14).prefix(4)) + "</span>" + String(s.dropFirst(18)) }
        add("GitHub token with <wbr> and <mark> inside", j("ghp", "_", g.alnum(36))) { s in String(s.prefix(10)) + "<wbr>" + String(s.dropFirst(10).prefix(10)) + "<mark class=\"x\"></mark>" + String(s.dropFirst(20)) }
        add("GitHub token with <sup></sup> inside", j("ghp", "_", g.alnum(36))) { s in String(s.prefix(12)) + "<sup></sup>" + String(s.dropFirst(12)) }
        add("GitHub token with &ZeroWidthSpace; inside", j("ghp", "_", g.alnum(36))) { s in "pat " + String(s.prefix(16)) + "&ZeroWidthSpace;" + String(s.dropFirst(16)) }
        add("AWS key ID with &#8203; inside", j("AKIA", g.upper(16))) { s in String(s.prefix(6)) + "&#8203;" + String(s.dropFirst(6)) + " is the id" }
        add("GitHub token with &#95; for its underscore", j("ghp", "_", g.alnum(36))) { s in "pat " + s.replacingOccurrences(of: "_", with: "&#95;") + " end" }
        add("AWS key ID with &#73; for a letter", j("AKIA", g.upper(16))) { s in "id AKIA&#73;" + String(s.dropFirst(5)) + " end" }
        add("Stripe key with &lowbar;", j("sk", "_live_", g.alnum(24))) { s in s.replacingOccurrences(of: "_", with: "&lowbar;") }
        add("GitHub token with $$ inside", j("ghp", "_", g.alnum(36))) { s in String(s.prefix(12)) + "$$" + String(s.dropFirst(12)) }
        add("PKCS#8 private key body without its armour", j("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", g.b64(120))) { "key body: \($0)" }
        add("PKCS#1 RSA private key body without its armour", j("MIIEpAIBAAKCAQEA", g.b64(120))) { "\($0)\n" }
        add("EC private key body without its armour", j("MHcCAQEEI", g.b64(80))) { "ec: \($0)" }
        return list
    }()

    /// Text that looks a little like a secret but is not one: placeholders, documentation examples,
    /// references to variables, hashes, ids, and words around secrets.
    static let negatives: [String] = [
        "call __init__ and _private_helper_ on my_var_name, then snake\\_case\\_name",
        "<span>plain words</span> with a <wbr> break, &ZeroWidthSpace; &amp; &nbsp; and <sup>2</sup>",
        "a public key: MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0",
        "$$E = mc^2$$ and $$a_b$$ in a math block",
        "a&#95;b and x&lowbar;y and &#65;&#66;&#67; in escaped HTML text",
        "R&amp;D budget &#8212; see the Q&amp;A page",
        "tags &lt;b&gt; and &quot;quotes&quot; in an export",
        "Use `__slots__` and `_repr_` helpers; see dunder_methods.",
        "escaped \\* asterisks, \\_ underscores and \\# hashes in Markdown",
        "<div class=\"callout\"><b>Note</b> <i>this</i></div>",
        "C:\\Users\\name\\Documents\\notes.md and \\\\server\\share",
        "&lt;tag&gt; &copy; 2026 &mdash; all rights &#169;",
        "a certificate MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAGA1UEChMJQmFsdGltb3Jl",
        "__Bold heading__ and _emphasis_ in a sentence about the AKIA prefix",
        "SKU_LIST_2026 and the ghp_ prefix is GitHub's",
        "the npm_ prefix and sk_live_ keys are Stripe's; never paste them",
        "a regex: re.sub(r'\\bfoo\\b', 'bar', text) and \\d{3}-\\d{4}",
        "The key to success is consistency.",
        "Reset the password: see the wiki page.",
        "password: see the wiki",
        "Set max_tokens=500 and temperature=0.2",
        "max_tokens: 4096",
        "token_count = 12345",
        "Use OPENAI_API_KEY=$OPENAI_API_KEY from the environment",
        "TOKEN_LIMIT=4096",
        "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}",
        "token: ${{ secrets.GH_TOKEN }}",
        "API_KEY=${API_KEY}",
        "api_key: your-api-key-here",
        "api_key: YOUR_API_KEY",
        "token: <token>",
        "password: changeme",
        "password: \"********\"",
        "secret: xxxxxxxxxxxxxxxx",
        "secret: REPLACE_ME_WITH_A_SECRET",
        "auth: true",
        "auth_method: oauth2",
        "credentials: file",
        "key: value",
        "sort_key: created_at_2024",
        "primary_key: user_id",
        "key_id: 1234",
        "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 bob@laptop",
        "secretName: db-credentials",
        "tokenUrl: https://oauth2.googleapis.com/token",
        "private_key_path: ~/.ssh/id_ed25519",
        "password_file: /run/secrets/db_password",
        "password_min_length: 12",
        "token_expiry: 3600",
        "PASSWORD_REGEX=^[a-z0-9]+$",
        "PWD=/home/user/projects/app2024",
        "The monkey=banana mapping",
        "version=1.2.3",
        "Set DEBUG=true and LOG_LEVEL=info",
        "export GITHUB_TOKEN=$(gh auth token)",
        "api_key = os.environ['API_KEY']",
        "token = request.headers.get('Authorization')",
        "password = getpass.getpass()",
        "secret: '{{ vault_secret }}'",
        "password: !vault |",
        "STRIPE_KEY=process.env.STRIPE_KEY",
        "The tokenizer splits text into tokens before the model sees it.",
        "tokenizer: bpe-v2",
        "Our API key rotation policy is 90 days.",
        "API keys are created in the dashboard under Settings > API.",
        "the refresh token is stored in the keychain",
        "The secret: nobody reads the changelog.",
        "secret_santa: true",
        "keyboard_shortcut: Ctrl+K",
        "Fixed in commit 3f9a2b1c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90 last week.",
        "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "checksum = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "The download's SHA-256 is 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824, verify it.",
        "request 550e8400-e29b-41d4-a716-446655440000 failed with a timeout",
        "trace_id: 4bf92f3577b34da6a3ce929d0e0e4736",
        "See https://github.com/acme/app/commit/a1b2c3d4e5f60718293a4b5c6d7e8f9012345678 for details",
        "![chart](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==)",
        "Visit https://example.com/docs#section and the skeleton file sk-8.md",
        "pip install sk-learn-compatible-estimator-wrapper",
        "{\"max_tokens\": 500, \"token_type\": \"bearer\"}",
        "Use the AKIAIOSFODNN7EXAMPLE key from the AWS docs.",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "sk-ant-xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "glpat-xxxxxxxxxxxxxxxxxxxx",
        "Authorization: Bearer <token>",
        "Authorization: Bearer $TOKEN",
        "curl -H \"Authorization: Bearer ${API_TOKEN}\" https://api.example.com",
        "postgres://user:password@localhost:5432/app",
        "postgres://USER:PASSWORD@HOST:5432/DB",
        "https://user:${PASS}@git.example.com/repo.git",
        "mongodb://localhost:27017/test",
        "git@github.com:acme/app.git",
        "Call hf_hub_download() to fetch the weights.",
        "npm_config_cache is where npm keeps its cache",
        "The eyebrow.eyelid.eyeball muscles",
        "Colour #ffaa00 and #00ff00.",
        "IPv6 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "Kubernetes objects use kind: Secret with type: Opaque.",
        "the `secret` keyword, the `token` type and the `key` path",
        "password is required",
        "The password is at least twelve characters long.",
        "my password there is required for every login",
        "The password for the wiki is in 1Password, ask Sam.",
        "Your password was changed on 2026-12-01.",
        "The password policy is documented in the handbook, section 4-2.",
        "AWS secret rotation runs every 90 days (see the runbook).",
        "The password for version 2.0 is required for the upgrade.",
        "My password is now stored in 1Password.",
        "the password was changed to something stronger",
        "The password is (as always) in the vault.",
        "The token for the staging API is short-lived and refreshed hourly.",
        "Our secret sauce is consistency-over-cleverness.",
        "The password reset link is https://example.com/reset for everyone.",
        "the password field is **required** on the sign-up form",
        "The passphrase for the offsite backup is on the printed sheet in the safe.",
        "The API key for Maps is “restricted-by-referrer” in the console.",
        "password is: see the onboarding doc, section 3",
        "The session token is now rotated every 15 minutes.",
        "The secret for the demo is `<redacted>` in this copy.",
        "our wifi password at the office is on the whiteboard",
        "password summary tokenizer summary token: version2 v1.2.3 the review",
        // Round 49: sentences about a password's attributes, and a key word followed by others.
        "Our password manager is 1Password and everyone should use it.",
        "The password policy is twelve-characters-minimum for all staff accounts.",
        "The token limit is 128k-tokens per request, so keep prompts short.",
        "The password reset flow is self-service-only since March.",
        "The password rotation schedule was changed to every-ninety-days.",
        "My password hint is mother-maiden-name.",
        "The passphrase length is now 20-characters for e2ee vaults.",
        "The password manager we picked is Bitwarden2024 edition.",
        "Our password policy is now NIST-800-63B compliant.",
        "Our shared password vault is Vaultwarden-1.30 on the NAS.",
        "The password hashing algorithm is bcrypt-12 by default.",
        // Round 50: descriptions joined by hyphens, and the active form without a password.
        "The password is Base64-encoded before hashing.",
        "The password is ten-characters-long at least.",
        "The password is WPA2-PSK protected.",
        "The password is OAuth2-only now, no local login.",
        "The password is 2FA-protected via YubiKey-5C.",
        "I changed my password to something stronger.",
        "We set the password to expire after 90 days.",
        "I changed the password length to 16-characters.",
        "We changed the password to meet the new policy.",
        "The password (if any) is stored in the keychain.",
        "The password, in most apps, is case-sensitive.",
        "The passphrase became mandatory in 2023.",
        "The password was Unicode-normalized first.",
        "The password for the wifi is on the fridge.",
        // Round 51.
        "I changed the wifi password to WPA3-Personal mode",
        "Settings → Password → Reset-Password-Link",
        "The password is <kbd>Ctrl+Shift+P</kbd>",
        "Bitwarden2024 is my password manager.",
        "1Password is my password manager of choice",
        "Password for the admin account: see the vault",
        "The password should be twelve-characters-long",
        "Das Passwort ist sicher",
        "Le mot de passe est obligatoire",
        "We switched the password to Argon2id",
        "I changed the router password to WPA2-AES for the office",
        "Update the password to PBKDF2-SHA256 hashing",
        "Changing the password to 2FA+passkeys is on the roadmap",
        "Password → 1Password",
        "We set the password to expire-after-90-days",
        "The password will be AES-256-encrypted",
        "The password is WPA2-PSK-compatible",
        "The password is HMAC-SHA256-signed",
        "The password is 2FA-and-SSO-protected",
        "The password is bcrypt12 hashed",
        "Das Passwort ist SHA256-gehasht",
        "Das Passwort ist 2FA-geschützt",
        "Le mot de passe est AES256-chiffré",
        "La contraseña es SHA256-cifrada",
        "The password is scram-sha-256 hashed in Postgres 14",
        "The password is NTLMv2-only",
        "The password is WPA3-SAE protected",
        "Le mot de passe est chiffré-AES256",
        "Le mot de passe est SHA256-haché",
        "Das Passwort ist Base64-kodiert",
        "Das Passwort ist WPA3-Personal-kompatibel",
        "A senha é WPA2-PSK-compatível",
        "Hasło jest SHA256-zahashowane",
        "The password is SHA256(salt+password) in the old system",
        "The password is bcrypt(cost=12) hashed, see the login code",
        "the password is hashed(pw) before it is stored",
        "Hasło to podstawa bezpieczeństwa konta",
        "Hasło to co najmniej 12 znaków",
        "Send the password to admin@example.com, not to the channel",
        "The password is required: at least twelve characters",
        "The password is mandatory, and so is 2FA",
        "The password is (as before) stored in 1Password",
        "The password is WPA2-PSK, protected by the router",
        "The meeting about the password is at 10:30 today",
        "The password is keychain:github, ask Anna",
        "Password for guests: 08:00-18:00h only.",
        "Password for Wi-Fi: Guest,5GHz,WPA2 network.",
        "The password is RFC:8018 compliant",
        "The password is xkcd:936 style, four words",
        "The password is UTF-8:encoded in the form",
        "The password line is localhost:5432:appdb:appuser:*",
        "Das Passwort ist §4-konform",
        "Hasło to minimum:12,znaków",
        "Le mot de passe est chiffré-AES256",
        "The password is sha512(salt+pw) in the legacy table",
        "The password is Argon2id(m=64MiB,t=3,p=4) hashed now",
        "The password is PBKDF2(SHA-256,600k) derived",
        "The password is scrypt(N=2^17,r=8,p=1) in the new store",
        "The password is HMAC-SHA256(key,password) checked",
        "The password is bcrypt($2b$12) with a pepper",
        "The password is base64(user:pass) in the header",
        "The password server is auth01:8443 behind the proxy",
        "The password is v2.3:ios17.4 compatible",
        "The password check is p50:120ms on the new box",
        "The password is minLength:12 in the policy file",
        "The password is 1h30m:40bits in the old doc",
        "The password is sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709 in the dump",
        "The password hash is api-v1:auth, see the spec",
        "password: env:DB_PASS,default=none",
        "The password is keychain:login,service=github.com on the Mac",
        "The password is see:wiki#rotation for the steps",
        "The password is sealed:ns=prod,name=db-creds in the cluster",
        "Add validation for the password is required,min=12,max=72 in the form",
        "The password is auth01:8443 on the staging box",
        "The password service runs on db-2.internal:5432",
        "password: op://Private/GitHub/password",
        "password: gopass:infra/db@v3",
        "The password is file:/run/secrets/db_password in the container",
        "The password is k8s:secret/db-creds:password in the cluster",
        "Use password authentication for SSH",
        "Log in with password hashing enabled on the server",
        "Das Passwort für den Server ist abgelaufen",
        "Le mot de passe de l'utilisateur est obligatoire",
        "La contraseña del usuario es obligatoria",
        "La password è obbligatoria per tutti gli utenti",
        "Enter your password twice to confirm the change",
        "Type the password manually in the dialog",
        "Das Passwort lautet wie immer",
        "use password-less login with passkeys",
        "Log in with password and 2FA enabled",
        "Mein Passwort ist jetzt sicher gespeichert",
        "password: secret:db-creds",
        "The password is secret:prod/db_password in the store",
        "The password is localhost:5432 for the dev box",
        "password: your-api-key-here",
        "password: yourpassword",
        "token: apikeyhere",
        "password: $DB_PASSWORD",
        "password: @db_secret",
        "The password is in the sphere of the admin team",
        "Enter your password: ",
        "token: null",
        "api_token: \"\"",
        "private_key_id: 4f1c2a",
        "name: app\r\ntoken: ${APP_TOKEN}\r\n",
        "api_key: '' # set in production",
        "token: version2",
        "the api key is stored in Vault under kv/app",
        "COVID-19\nimplementation of the ISO-8601\nparser",
        "secret = os.getenv(\"SECRET\")",
        "token=\"$(cat /run/secrets/token)\"",
        "password=\"%DB_PASSWORD%\"",
        "implementation\ndetails of the tokenizer are in chapter\nthree of the documentation",
    ]

    @Test(arguments: positives)
    func everyPositiveIsFoundAndGoneAfterRedaction(_ sample: Positive) {
        let scanner = SecretScanner()
        #expect(!scanner.scan(sample.prompt).isEmpty, "not found: \(sample.name)")
        let (redacted, findings) = scanner.redact(sample.prompt)
        #expect(!findings.isEmpty)
        #expect(!redacted.contains(sample.secret), "\(sample.name): secret left after redaction")
        // Also with invisible characters and line breaks taken out of the result: no trace of the secret.
        #expect(!Self.squash(redacted).contains(Self.squash(sample.secret)), "\(sample.name): secret left (squashed) after redaction: \(redacted)")
        // The findings never quote the secret.
        #expect(!SecretScanner.describe(findings).contains(sample.secret))
    }

    @Test(arguments: negatives)
    func everyNegativeIsLeftAlone(_ text: String) {
        #expect(SecretScanner().scan(text).isEmpty, "false alarm: \(text) → \(SecretScanner.describe(SecretScanner().scan(text)))")
    }

    @Test func theCorpusIsBigEnough() {
        #expect(Self.positives.count >= 60)
        #expect(Self.negatives.count >= Self.positives.count)
    }

    /// The text without invisible characters and whitespace, full-width letters folded.
    static func squash(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where !ScanView.isInvisible(scalar) && !scalar.properties.isWhitespace && scalar != "\\" && scalar != "\"" {
            if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFF01 + 0x21) { out.append(ascii) } else { out.append(scalar) }
        }
        return String(out)
    }

    @Test func aSplitKeyIsRedactedWholeNotJustItsFirstLine() {
        let key = Self.j("sk-", "ant-", "api03-", Gen(7).url64(60))
        let prompt = "first line\nmy key: " + String(key.prefix(30)) + "\n" + String(key.dropFirst(30)) + "\nlast line"
        let (redacted, findings) = SecretScanner().redact(prompt)
        #expect(findings.count == 1)
        #expect(findings.first?.line == 2)
        #expect(!redacted.contains(String(key.dropFirst(30))))
        #expect(!redacted.contains(String(key.prefix(30))))
        #expect(redacted.hasPrefix("first line\nmy key: [REDACTED:anthropic-key]"))
        #expect(redacted.hasSuffix("\nlast line"))
    }

    @Test func invisibleCharactersInsideAKeyAreRedactedWithIt() {
        let key = Self.j("ghp", "_", Gen(8).alnum(36))
        let hidden = String(key.prefix(10)) + "\u{200B}" + String(key.dropFirst(10))
        let (redacted, findings) = SecretScanner().redact("push with \(hidden) now")
        #expect(findings.map(\.kind) == ["GitHub token"])
        #expect(redacted == "push with [REDACTED:github-token] now")
    }

    @Test func aMegabyteOfProseScansAndTheSecretAtItsEndIsFound() {
        let g = Gen(99)
        let words = ["the", "deployment", "implementation", "version2", "tokenizer", "v1.2.3", "password", "key", "review", "summary", "release-notes", "ISO-8601", "COVID-19", "well-known", "and", "of", "a", "configuration", "https://example.com/docs", "x=1", "token:", "secret", "API", "2026-12-02"]
        var text = ""
        var line = ""
        while text.utf8.count < 1_000_000 {
            let word = words[Int(g.hex(4), radix: 16)! % words.count]
            if line.count + word.count > 72 { text += line + "\n"; line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        let scanner = SecretScanner()
        let falseAlarms = scanner.scan(text)
        let lines = text.components(separatedBy: "\n")
        #expect(falseAlarms.isEmpty, "\(falseAlarms.prefix(3).map { "\($0.kind): " + lines[$0.line - 1] })")
        let key = Self.j("AKIA", g.upper(16))
        let findings = scanner.scan(text + line + "\nfinally " + key + "\n")
        #expect(findings.map(\.kind) == ["AWS access key ID"])
        #expect(findings.first!.line == text.split(separator: "\n", omittingEmptySubsequences: false).count + 1)
    }
}

/// The attack cases of issue 9, end to end through the router: a task that names a premium agent or
/// lane and carries the secret is blocked (`secret_action: block`), and with `secret_action: redact`
/// the prompt that would be sent holds none of it. Each of these was sent unredacted before.
@Suite struct SecretRoutingAttackTests {
    static let attacks: [SecretCorpusTests.Positive] = {
        let names: Set<String> = [
            "JWT in prose", "JWT in YAML", "AWS credentials file secret", "AWS credentials file session token", "YAML api_key", "YAML token",
            "YAML secret (quoted)", "INI api_key", "npm _authToken (npmrc)", "npm _authToken legacy UUID", "Anthropic key split over two lines",
            "key split right after its prefix", "JWT wrapped over three lines", "zero-width space in an Anthropic key",
            "zero-width joiners in a GitHub token", "soft hyphen in an AWS key ID", "zero-width space in a YAML token", "full-width Anthropic prefix",
        ]
        return SecretCorpusTests.positives.filter { names.contains($0.name) }
    }()

    @Test func everyAttackCaseIsInTheCorpus() {
        #expect(Self.attacks.count == 18)
    }

    @Test(arguments: attacks, ["agent: claude", "lane: premium"])
    func blockedBeforeThePremiumLane(_ sample: SecretCorpusTests.Positive, _ choice: String) {
        let v = RouteTestVault()
        let d = v.route("Tasks/s.md", "---\n\(choice)\n---\n" + sample.prompt + "\n")
        #expect(d.lane == .premium)
        #expect(d.action.name == "blocked", "\(sample.name)")
        #expect(d.outgoingPrompt == nil)
        for text in [d.reason, d.json.compact] + d.verdicts.map(\.detail) {
            #expect(!text.contains(sample.secret))
        }
    }

    @Test(arguments: attacks)
    func redactedOutgoingPromptHoldsNoneOfTheSecret(_ sample: SecretCorpusTests.Positive) {
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "secret_action: redact")
        let d = v.route("Tasks/s.md", "---\nagent: claude\n---\n" + sample.prompt + "\n")
        #expect(d.action == .run, "\(sample.name)")
        let outgoing = try! #require(d.outgoingPrompt)
        #expect(!outgoing.contains(sample.secret))
        #expect(!SecretCorpusTests.squash(outgoing).contains(SecretCorpusTests.squash(sample.secret)), "\(sample.name): \(outgoing)")
        #expect(outgoing.contains("[REDACTED:"))
    }

    @Test func aRedactedPromptIsCleanWhenScannedAgain() {
        // Redaction leaves nothing the scanner would still find, for the whole corpus at once.
        let all = SecretCorpusTests.positives.map(\.prompt).joined(separator: "\n\n")
        let scanner = SecretScanner()
        let (redacted, findings) = scanner.redact(all)
        #expect(!findings.isEmpty)
        #expect(scanner.scan(redacted).isEmpty, "\(SecretScanner.describe(scanner.scan(redacted)))")
        for sample in SecretCorpusTests.positives {
            #expect(!SecretCorpusTests.squash(redacted).contains(SecretCorpusTests.squash(sample.secret)), "\(sample.name)")
        }
    }
}
