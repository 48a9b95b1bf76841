import ArgumentParser
import LinkTrack

@main
struct LinkTrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linktrack",
        abstract: "Open- and click-tracking rewriter for email (SES-style tracking)."
    )
}
