import Testing
@testable import LinkTrack

/// `OptOutAttributes`: which attribute name and (decoded) value is another service's opt-out.
@Suite("LinkRules: other services' opt-out attributes")
struct OptOutAttributesTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var attribute: String
        /// The decoded value; nil for an attribute without `=`.
        var value: String?
        /// The service matched, or nil.
        var service: String?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "SendGrid clicktracking=off", attribute: "clicktracking", value: "off", service: "SendGrid"),
        Row(name: "SendGrid value in upper case", attribute: "clicktracking", value: "OFF", service: "SendGrid"),
        Row(name: "SendGrid name in mixed case", attribute: "ClickTracking", value: "off", service: "SendGrid"),
        Row(name: "SendGrid value with blanks around it", attribute: "clicktracking", value: " off\t", service: "SendGrid"),
        Row(name: "SendGrid clicktracking=on is no opt-out", attribute: "clicktracking", value: "on", service: nil),
        Row(name: "SendGrid without a value is no opt-out", attribute: "clicktracking", value: nil, service: nil),
        Row(name: "Postmark data-pm-no-track by presence", attribute: "data-pm-no-track", value: nil, service: "Postmark"),
        Row(name: "Postmark with any value", attribute: "data-pm-no-track", value: "false", service: "Postmark"),
        Row(name: "Mandrill mc:disable-tracking by presence", attribute: "mc:disable-tracking", value: nil, service: "Mandrill"),
        Row(name: "Mandrill name in upper case", attribute: "MC:DISABLE-TRACKING", value: "", service: "Mandrill"),
        Row(name: "SparkPost data-msys-clicktrack=0", attribute: "data-msys-clicktrack", value: "0", service: "SparkPost"),
        Row(name: "SparkPost data-msys-clicktrack=1 is no opt-out", attribute: "data-msys-clicktrack", value: "1", service: nil),
        Row(name: "SparkPost 00 is not 0", attribute: "data-msys-clicktrack", value: "00", service: nil),
        Row(name: "a prefix of a name is not the name", attribute: "data-pm-no", value: nil, service: nil),
        Row(name: "SES's own attribute is not among them", attribute: "ses:no-track", value: nil, service: nil),
    ]

    @Test(arguments: rows)
    func matches(_ row: Row) {
        let match = OptOutAttributes.match(name: Array(row.attribute.utf8), value: row.value.map { Array($0.utf8) })
        #expect(match?.service == row.service)
    }
}
