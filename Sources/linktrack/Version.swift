/// The version `linktrack --version` prints: the one place it is written for this executable.
/// Kept equal to `linktrack-server`'s (`ServerVersion.current` in the Server package), since the two
/// read the same configuration and token format.
enum LinkTrackVersion {
    static let current = "0.2.0"
}
