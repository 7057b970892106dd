import MobyCore
import MobyTestSupport
import Testing

@Suite struct DeviceIDTests {
    @Test(arguments: ["sensor_001", "press-7", "line.3:cell_2", "Ünterwerk-4", "温度计7", "датчик_12", "सेंसर१", "A"])
    func idsOfLettersDigitsAndSeparatorsAreAccepted(_ id: String) {
        #expect(DeviceID.problem(id) == nil)
        #expect(ReadingDecoder.deviceIDProblem(id) == nil)
    }

    @Test(arguments: [
        ("", "empty"), ("   ", "space"), ("sensor 1", "space"), ("sensor\u{200B}1", "U+200B"),
        ("\u{202E}1rosnes", "U+202E"), ("sensor\u{2028}", "U+2028"), ("\u{FEFF}sensor", "U+FEFF"),
        ("dev\\", "'\\'"), ("a/b", "'/'"), ("a+b", "'+'"), ("a#b", "'#'"), ("a\nb", "U+000A"),
        ("-leading", "start"), ("\u{301}e", "start"), ("a\u{00A0}b", "space"), ("a,b", "','"), ("a=b", "'='"),
        ("a\"b", "'\"'"), (String(repeating: "x", count: 129), "longer"), ("Su\u{0308}d", "NFC"),
    ])
    func everythingElseIsRefusedWithTheCharacterNamed(_ id: String, _ named: String) throws {
        let problem = try #require(DeviceID.problem(id))
        #expect(problem.contains(named), "\(problem)")
    }

    @Test func theScannerFastPathAgreesWithTheAlphabet() {
        var random = SplitMix64(seed: 11)
        let pool = Array("ab Z09-_.:+#/\\ é\u{200B}\u{301}\n\"".unicodeScalars)
        for _ in 0..<20_000 {
            var id = ""
            for _ in 0..<Int(random.next() % 6) {
                id.unicodeScalars.append(pool[Int(random.next() % UInt64(pool.count))])
            }
            // The fast path may only accept what the full check accepts.
            if DeviceID.isPlainASCII(id.utf8) { #expect(DeviceID.problem(id) == nil, "\(id.debugDescription)") }
        }
    }

    @Test func readingsWithInvisibleOrSpoofingIdsAreRefused() throws {
        let decoder = ReadingDecoder(catalog: try SensorCatalog.load(path: TestPaths.catalog))
        for id in ["sensor\u{200B}1", "\u{202E}evil", "   ", "dev\\\\"] {
            let result = decoder.decode(
                Array(#"{"device_id":"\#(id)","temperature":20}"#.utf8), topicDeviceID: nil, receivedAt: 0)
            guard case .failure(let rejection) = result else {
                Issue.record("accepted \(id.debugDescription)")
                continue
            }
            #expect(rejection.errors.map(\.field) == ["device_id"])
        }
    }
}
