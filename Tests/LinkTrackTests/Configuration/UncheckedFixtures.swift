@testable import LinkTrack

// Fixtures in this target build configuration sets and configurations that are valid by construction,
// many of them without `try` (HTMLRewriterTestSupport, MessageFilterTestSupport). These test-only
// initialisers keep that spelling: the library's own ones of the same spelling throw and are
// `@_disfavoredOverload`, so these win here. Validation of configurations built in code is tested
// from the CLITests target (LibraryConsumerTests), which sees only the library's public API.

extension ConfigurationSet {
    init(name: String, customRedirectDomain: String?, httpsPolicy: HttpsPolicy = .optional,
         tracksOpens: Bool = true, tracksClicks: Bool = true) {
        self.init(uncheckedName: name, customRedirectDomain: customRedirectDomain, httpsPolicy: httpsPolicy,
                  tracksOpens: tracksOpens, tracksClicks: tracksClicks)
    }
}

extension Configuration {
    init(configurationSets: [ConfigurationSet], defaultConfigurationSet: String? = nil, signingKeys: [SigningKey]) {
        self.init(uncheckedConfigurationSets: configurationSets, defaultConfigurationSet: defaultConfigurationSet,
                  signingKeys: signingKeys)
    }
}
