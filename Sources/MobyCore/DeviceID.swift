import Foundation

/// The one definition of what a device id may be. Device ids are InfluxDB tag values, MQTT topic
/// levels and names an operator reads in a list, so they are limited to letters and digits of any
/// script plus a few separators: nothing invisible, nothing that changes text direction, no
/// spaces, no MQTT wildcards or topic separators, no line-protocol escapes. Two devices can then
/// never look alike because of a character nobody can see.
public enum DeviceID {
    /// The longest id, in UTF-8 bytes.
    public static let maxBytes = 128
    /// Allowed besides letters and digits (not as the first character).
    public static let separators: Set<UInt8> = [
        UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
    ]
    /// How the alphabet is explained in error messages.
    public static let alphabet = "letters and digits of any script, and - _ . : (not first)"

    /// Why `id` cannot be a device id, or nil when it can.
    public static func problem(_ id: String) -> String? {
        if id.isEmpty { return "must not be empty" }
        if id.utf8.count > maxBytes { return "longer than \(maxBytes) bytes" }
        if isPlainASCII(id.utf8) { return nil }
        var first = true
        for scalar in id.unicodeScalars {
            defer { first = false }
            if scalar.isASCII, separators.contains(UInt8(scalar.value)) {
                if first { return "must start with a letter or digit" }
                continue
            }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                .decimalNumber:
                continue
            case .nonspacingMark, .spacingMark, .enclosingMark:
                // Combining marks belong to the letter before them (scripts such as Devanagari).
                if first { return "must start with a letter or digit" }
                continue
            default:
                return "must contain only \(alphabet); found \(describe(scalar))"
            }
        }
        // "é" as one character or as "e" plus an accent looks the same and compares equal as a
        // Swift string, but InfluxDB and MQTT compare bytes: only the composed form (NFC) is taken.
        if !id.utf8.elementsEqual(id.precomposedStringWithCanonicalMapping.utf8) {
            return "must be in Unicode NFC form (composed characters, e.g. é as U+00E9)"
        }
        return nil
    }

    /// True when the bytes are a valid id made of ASCII letters, digits and separators only: the
    /// fast path of the reading scanner, decided without building a string. False means "ask
    /// `problem(_:)`", not necessarily invalid.
    public static func isPlainASCII(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first, bytes.count <= maxBytes, isASCIIAlphanumeric(first) else { return false }
        for byte in bytes where !isASCIIAlphanumeric(byte) && !separators.contains(byte) { return false }
        return true
    }

    @inline(__always)
    static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
    }

    /// A character named so that an invisible one can be seen in a message: `U+200B`, `' '`.
    static func describe(_ scalar: Unicode.Scalar) -> String {
        let code = String(scalar.value, radix: 16, uppercase: true)
        let padded = "U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
        if scalar.properties.generalCategory == .spaceSeparator { return "a space (\(padded))" }
        if scalar.isASCII, scalar.value >= 0x21, scalar.value < 0x7F { return "'\(Character(scalar))' (\(padded))" }
        return padded
    }
}
