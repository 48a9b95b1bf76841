import LinkTrack

struct PutLinkTrackOptionsCommand: Command {
    static let spec = CommandSpec(
        name: "put-configuration-set-linktrack-options",
        abstract: "Replace a configuration set's LinkTrackOptions (LinkTrack's options beyond SES) in the file.",
        discussion: "As put-configuration-set-tracking-options does for TrackingOptions: the set's LinkTrackOptions become exactly the options given, and an omitted option is removed and takes its default (TrackUnsubscribeLinks false, ExcludedDomains empty, HonorOtherOptOutAttributes false, TrackLinksIn HTML). The file is validated and replaced atomically, and only the set's LinkTrackOptions change: every other byte stays as written. On any error it is left untouched.",
        options: [
            .option("config", help: "The configuration file to update.", required: true),
            .option("configuration-set-name", help: "The configuration set's name.", required: true),
            .option("track-unsubscribe-links", help: "TrackUnsubscribeLinks: whether links to the message's List-Unsubscribe URLs are tracked.",
                    choices: ["true", "false"]),
            .option("excluded-domains", help: "ExcludedDomains: hosts whose links are never tracked, separated by commas (partner.example, *.bank.example or .bank.example for its subdomains); may be repeated.",
                    repeatable: true),
            .option("honor-other-opt-out-attributes", help: "HonorOtherOptOutAttributes: whether other services' opt-out attributes (clicktracking=off, data-pm-no-track, mc:disable-tracking, data-msys-clicktrack=\"0\") keep a link untracked.",
                    choices: ["true", "false"]),
            .option("track-links-in", help: "TrackLinksIn: the parts whose links are tracked.",
                    choices: TrackLinksIn.allCases.map(\.rawValue)),
        ]
    )

    var config: String
    var configurationSetName: String
    var fields: [(key: String, value: JSONValue)] = []

    init(_ arguments: ParsedArguments) {
        // Both are required: the parse has checked that they are there.
        config = arguments.value("config") ?? ""
        configurationSetName = arguments.value("configuration-set-name") ?? ""
        // The choices have been checked by the parse.
        if let value = arguments.value("track-unsubscribe-links") {
            fields.append(("TrackUnsubscribeLinks", .bool(value == "true")))
        }
        let domainArguments = arguments.values("excluded-domains")
        if !domainArguments.isEmpty {
            // `--excluded-domains=` writes an empty list.
            let domains = domainArguments.flatMap { $0.split(separator: ",", omittingEmptySubsequences: true) }
                .map { JSONValue.string(String($0)) }
            fields.append(("ExcludedDomains", .array(domains)))
        }
        if let value = arguments.value("honor-other-opt-out-attributes") {
            fields.append(("HonorOtherOptOutAttributes", .bool(value == "true")))
        }
        if let value = arguments.value("track-links-in") {
            fields.append(("TrackLinksIn", .string(value)))
        }
    }

    func run() throws {
        try putConfigurationFile(config) { (bytes) throws(ConfigurationError) in
            try Configuration.putConfigurationSetLinkTrackOptions(
                json: bytes, configurationSetName: configurationSetName, fields: fields)
        }
    }
}
