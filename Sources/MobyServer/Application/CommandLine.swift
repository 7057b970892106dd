import Configuration

/// moby-server's command line: every setting of `ServerConfiguration.settings` as a flag
/// (`moby.mqtt.url` is `--mqtt-url`), which wins over its `MOBY_*` environment variable.
public enum ServerCommandLine {
    /// The flag for a setting key.
    public static func flag(for key: String) -> String {
        "--" + key.split(separator: ".").dropFirst().joined(separator: "-")
    }

    /// What the command line asks for.
    public enum Parsed {
        case run(ConfigReader)
        case help(String)
    }

    /// Parses `arguments` (without the program name); throws with a usable message on unknown
    /// flags or missing values.
    public static func parse(_ arguments: [String], environment: [String: String]) throws -> Parsed {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        var index = 0
        let byFlag = Dictionary(uniqueKeysWithValues: ServerConfiguration.settings.map { (flag(for: $0.key), $0) })
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" { return .help(usage()) }
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let setting = byFlag[name] else {
                throw ConfigurationError("unknown option '\(argument)'; see moby-server --help")
            }
            if value == nil {
                index += 1
                guard index < arguments.count else { throw ConfigurationError("\(name) needs a value") }
                value = arguments[index]
            }
            let isSecret = ["password", "token", "key"].contains { setting.key.hasSuffix($0) }
            values[AbsoluteConfigKey(ConfigKey(setting.key))] = ConfigValue(.string(value!), isSecret: isSecret)
            index += 1
        }
        return .run(
            ConfigReader(providers: [
                InMemoryProvider(name: "command line", values: values),
                EnvironmentVariablesProvider(environmentVariables: environment),
            ]))
    }

    /// The `--help` text: every flag, its environment variable and default.
    public static func usage() -> String {
        var text = """
            moby-server: stores factory sensor readings from MQTT in InfluxDB and serves the MOBY API.

            USAGE: moby-server [--option value]...
                   moby-server users add NAME --role ROLE --password-stdin | users list | users remove NAME
                   moby-server tokens create --role ROLE [--device ID] [--name NAME] | tokens list | tokens revoke ID
                   (credentials of the data folder MOBY_DATA_DIR or --data-dir; see moby-server users --help)

            Every option can also be set by its environment variable; the flag wins.

            OPTIONS:

            """
        for setting in ServerConfiguration.settings {
            let flag = flag(for: setting.key)
            let defaultText = setting.defaultValue.isEmpty ? "" : " (default: \(setting.defaultValue))"
            let padding = String(repeating: " ", count: max(1, 27 - flag.count))  // never cut a long flag
            text += "  \(flag)\(padding)\(setting.environmentName)\n"
            text += "      \(setting.help)\(defaultText)\n"
        }
        text += "  -h, --help                 Show this help.\n"
        return text
    }
}
