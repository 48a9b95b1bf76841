import ArgumentParser
import LinkTrack

struct PutTrackingOptionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put-configuration-set-tracking-options",
        abstract: "Replace a configuration set's TrackingOptions in the file, as SES v2's PutConfigurationSetTrackingOptions does.",
        discussion: "An omitted option is removed (the API's PUT semantics). The file is validated and replaced atomically; on any error it is left untouched."
    )

    @Option(help: "The configuration file to update.")
    var config: String

    @Option(help: "The configuration set's name.")
    var configurationSetName: String

    @Option(help: "CustomRedirectDomain: the host name tracking links point at.")
    var customRedirectDomain: String?

    @Option(help: "HttpsPolicy: REQUIRE, REQUIRE_OPEN_ONLY or OPTIONAL.")
    var httpsPolicy: String?

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path: config)
        } catch {
            throw fail("linktrack: \(error)", code: SysExit.configuration)
        }
        do {
            let document: JSONValue
            do {
                document = try JSONValue.parse(bytes)
            } catch {
                throw ConfigurationError.badRequest("\(config) is not valid JSON: \(error.description).")
            }
            let updated = try Configuration.putConfigurationSetTrackingOptions(
                document: document, configurationSetName: configurationSetName,
                customRedirectDomain: customRedirectDomain, httpsPolicy: httpsPolicy)
            try FileIO.writeAtomically(path: config, contents: Array(updated.serialized().utf8))
        } catch let error as ConfigurationError {
            throw fail("\(error.exceptionName): \(error.message)",
                       code: SysExit.dataError)
        } catch let error as IOError {
            throw fail("linktrack: \(error)", code: SysExit.ioError)
        }
    }
}
