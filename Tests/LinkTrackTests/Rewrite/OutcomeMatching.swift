@testable import LinkTrack

/// The name of an outcome's case (`malformedLinkTags` for `.malformedLinkTags(value:destination:)`),
/// so that tests match on cases, never on the sentences `--explain` prints.
/// An optional is looked through ("nil" when empty).
func caseName(_ value: Any) -> String {
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional { return mirror.children.first.map { caseName($0.value) } ?? "nil" }
    return mirror.children.first?.label ?? String(reflecting: value)
}

extension FilterNote {
    /// The part note, when this is one about the part at `path` (any part when nil).
    func partNote(_ path: String? = nil) -> PartNote? {
        guard case .part(let at, let note) = self, path == nil || at == path else { return nil }
        return note
    }
}

extension FilterWarning {
    /// The part warning, when this is one about the part at `path` (any part when nil).
    func partWarning(_ path: String? = nil) -> PartWarning? {
        guard case .part(let at, let warning) = self, path == nil || at == path else { return nil }
        return warning
    }
}
