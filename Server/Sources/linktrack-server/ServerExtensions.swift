import Hummingbird
import LinkTrackServer
import Logging

/// Routes other parts add to the admin listener (the SES v2 control API).
enum ServerExtensions {
    static func addAdminRoutes(_ router: Router<AdminRequestContext>, _ configuration: LiveConfiguration, _ logger: Logger) {
        addControlAPIRoutes(to: router, api: makeControlAPI(configuration: configuration, logger: logger))
    }
}
