import LinkTrack

struct PutTrackingOptionsCommand: Command {
    static let spec = CommandSpec(
        name: "put-configuration-set-tracking-options",
        abstract: "Replace a configuration set's TrackingOptions in the file, as SES v2's PutConfigurationSetTrackingOptions does.",
        discussion: "An omitted option is removed (the API's PUT semantics): without --custom-redirect-domain the set tracks nothing, which a note on stderr says. The file is validated and replaced atomically, and only the set's TrackingOptions change: every other byte stays as written. On any error it is left untouched.",
        options: [
            .option("config", help: "The configuration file to update.", required: true),
            .option("configuration-set-name", help: "The configuration set's name.", required: true),
            .option("custom-redirect-domain", help: "CustomRedirectDomain: the host name tracking links point at."),
            .option("https-policy", help: "HttpsPolicy: REQUIRE, REQUIRE_OPEN_ONLY or OPTIONAL."),
        ]
    )

    var config: String
    var configurationSetName: String
    var customRedirectDomain: String?
    var httpsPolicy: String?

    init(_ arguments: ParsedArguments) {
        // Both are required: the parse has checked that they are there.
        config = arguments.value("config") ?? ""
        configurationSetName = arguments.value("configuration-set-name") ?? ""
        customRedirectDomain = arguments.value("custom-redirect-domain")
        httpsPolicy = arguments.value("https-policy")
    }

    func run() throws {
        try putConfigurationFile(config) { (bytes) throws(ConfigurationError) in
            try Configuration.putConfigurationSetTrackingOptions(
                json: bytes, configurationSetName: configurationSetName,
                customRedirectDomain: customRedirectDomain, httpsPolicy: httpsPolicy)
        }
        if customRedirectDomain == nil {
            // The PUT removed CustomRedirectDomain (as SES's does): say so, since the set's mail now
            // passes untracked although the command succeeded.
            StandardError.write("linktrack: note: configuration set \(configurationSetName) now has no CustomRedirectDomain "
                + "(the PUT replaces TrackingOptions whole), so its mail is no longer tracked; "
                + "give --custom-redirect-domain to keep tracking.\n")
        }
    }
}
