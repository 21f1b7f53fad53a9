import Foundation

/// The watcher as a service the system keeps running: a systemd user unit on Linux, a launchd agent
/// on macOS. Rendering is pure (tests check both everywhere); installing is the `service` command's job.
public struct ServiceUnit: Sendable, Equatable {
    /// Which service manager the unit is for.
    public enum Manager: String, Sendable {
        case systemd, launchd
    }

    /// The `fuckbigtech` binary the service starts (absolute).
    public var executable: String
    /// The vault it watches (absolute).
    public var vault: String
    /// `PATH` for the watcher and the agents it starts (claude, codex, … must be found on it).
    public var path: String
    /// The user's home (launchd needs absolute log paths).
    public var home: String

    /// The unit that runs `executable watch` on `vault`, with `path` as its PATH and `home` as HOME.
    public init(executable: String, vault: String, path: String, home: String) {
        self.executable = executable
        self.vault = vault
        self.path = path
        self.home = home
    }

    /// The service's name: `fuckbigtech-<vault folder>-<8 hex digits of the vault path>`, so two
    /// vaults get two services and the same vault always the same one.
    public var name: String {
        let base = (vault as NSString).lastPathComponent
        let slug = String(base.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" }.prefix(32))
        let hash = String(ContentHash(of: Array(vault.utf8)).hex.prefix(8))
        return "fuckbigtech-" + (slug.isEmpty ? "vault" : slug) + "-" + hash
    }

    /// Where the unit file goes for `manager`: `~/.config/systemd/user/NAME.service` (or under
    /// `$XDG_CONFIG_HOME`), `~/Library/LaunchAgents/NAME.plist`.
    public func filePath(for manager: Manager, environment: [String: String]) -> String {
        switch manager {
        case .systemd:
            let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
            return config + "/systemd/user/" + name + ".service"
        case .launchd:
            return home + "/Library/LaunchAgents/" + launchdLabel + ".plist"
        }
    }

    /// The launchd label (reverse-DNS style, as launchd expects).
    public var launchdLabel: String { "org.fuckbigtech." + name }

    /// The unit file's text for `manager`.
    public func render(for manager: Manager) -> String {
        switch manager {
        case .systemd: return systemdUnit
        case .launchd: return launchdPlist
        }
    }

    /// A systemd user unit: restarted on failure, logs to the journal, stopped with SIGTERM (the
    /// watcher gives running agents a few seconds, then stops them).
    public var systemdUnit: String {
        """
        # Written by `fuckbigtech service install`; `fuckbigtech service uninstall` removes it.
        [Unit]
        Description=fuckbigtech watcher for \(ServiceUnit.systemdEscape(vault))
        After=network-online.target

        [Service]
        Type=simple
        ExecStart=\(ServiceUnit.systemdQuote(executable)) watch --vault \(ServiceUnit.systemdQuote(vault))
        Environment=\(ServiceUnit.systemdQuote("PATH=" + path, expands: false))
        Environment=\(ServiceUnit.systemdQuote("FBT_VAULT=" + vault, expands: false))
        Restart=on-failure
        RestartSec=5
        KillSignal=SIGTERM
        TimeoutStopSec=20
        StandardOutput=journal
        StandardError=journal

        [Install]
        WantedBy=default.target

        """
    }

    /// A launchd agent: started at login, restarted when it exits with an error, logs under
    /// `~/Library/Logs/`.
    public var launchdPlist: String {
        let log = home + "/Library/Logs/" + name + ".log"
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
        <plist version="1.0">
        <dict>
          <key>Label</key><string>\(ServiceUnit.xml(launchdLabel))</string>
          <key>ProgramArguments</key>
          <array>
            <string>\(ServiceUnit.xml(executable))</string>
            <string>watch</string>
            <string>--vault</string>
            <string>\(ServiceUnit.xml(vault))</string>
          </array>
          <key>EnvironmentVariables</key>
          <dict>
            <key>PATH</key><string>\(ServiceUnit.xml(path))</string>
            <key>FBT_VAULT</key><string>\(ServiceUnit.xml(vault))</string>
          </dict>
          <key>RunAtLoad</key><true/>
          <key>KeepAlive</key>
          <dict>
            <key>SuccessfulExit</key><false/>
          </dict>
          <key>ThrottleInterval</key><integer>5</integer>
          <key>StandardOutPath</key><string>\(ServiceUnit.xml(log))</string>
          <key>StandardErrorPath</key><string>\(ServiceUnit.xml(log))</string>
        </dict>
        </plist>

        """
    }

    /// A word for a systemd command line or `Environment=`: double-quoted, with `\`, `"` escaped and
    /// `%` (specifiers) doubled (systemd.unit(5), "Specifiers"), and `$` doubled on a command line
    /// (`expands`: variable expansion, systemd.service(5), "Command lines") — not in `Environment=`,
    /// where `$` has no meaning and `$$` stayed two dollars (an outside attack).
    static func systemdQuote(_ word: String, expands: Bool = true) -> String {
        var out = "\""
        for c in word {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "%": out += "%%"
            case "$": out += expands ? "$$" : "$"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    /// Text for a plain systemd setting (`Description=`): specifiers doubled, no line breaks.
    static func systemdEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "\n", with: " ")
    }

    /// XML character data.
    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
