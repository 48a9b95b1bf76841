/// Known answers for LinkTrack's SHA-256 and HMAC-SHA256, computed once by an independent
/// implementation (Python's `hashlib` and `hmac`, which use OpenSSL) and committed, so that the test
/// build does not compile swift-crypto to serve as the oracle (issue 16, item 11). To regenerate:
///
/// ```python
/// import hashlib, hmac, base64
/// def message(n): return bytes((i * 167 + n * 31 + 7) & 0xFF for i in range(n))
/// lengths = list(range(321)) + [1000, 4095, 4096, 4097, 65537]
/// prefixes = [hashlib.sha256(message(n)).hexdigest()[:8] for n in lengths]
/// def secret(seed, count): return bytes((seed * 31 + i * 7) & 0xFF for i in range(count))
/// for key_length in [32, 63, 64, 65, 100, 200]:
///     for kind, query_length in [("c", 0), ("c", 1), ("o", 40), ("c", 55), ("c", 64), ("o", 119), ("c", 300)]:
///         query = bytes(ord("a") + i % 26 for i in range(query_length))
///         mac = hmac.new(secret(key_length, key_length), b"LT1\0" + kind.encode() + b"\0kx\0" + query,
///                        hashlib.sha256).digest()[:12]
///         print(base64.urlsafe_b64encode(mac).decode().rstrip("="))
/// ```
enum KnownAnswers {
    /// The message of `length` bytes whose digest is in ``sha256Prefixes``.
    static func message(length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 167 &+ length &* 31 &+ 7) }
    }

    /// The lengths of the messages: every length up to five blocks, then a few long ones.
    static let lengths = Array(0...320) + [1000, 4095, 4096, 4097, 65_537]

    /// The first 8 hex digits of SHA-256 of ``message(length:)`` for each of ``lengths``: 32 bits
    /// each, which a wrong implementation matches by chance once in 4 billion lengths.
    static let sha256Prefixes: [String] = [
        "e3b0c442", "951dcee3", "f7211d8c", "b28db785", "b024e0dd", "ae1a6b3f", "2c423dd8", "4cf0a795",
        "3a5dfed0", "57589ca2", "1c5fc1b8", "c2109131", "6f7dfb0a", "fc594011", "2cea1cb8", "ec844bb1",
        "1d65c03d", "9657d8a8", "069494e9", "588a5bdc", "2511bd87", "79f89e92", "94f470d8", "d2f03a8e",
        "ce51f3b0", "9300b0fc", "dcd713a5", "43889b47", "2f10ef40", "7273f73e", "1d90d3b8", "7f820df6",
        "1dadcb41", "0b245c6b", "d9b487a0", "a733180e", "8aa2136c", "a9e52859", "32d7b916", "6df3eeca",
        "fba6fcc6", "7a689c1a", "96de2268", "56cdfd54", "6d8ee5d1", "da1077c1", "2fcd142f", "c3b7e81f",
        "19c8bdcb", "371cac09", "54ccb155", "b2f15a89", "dc761c54", "387122db", "68fba871", "8ea1443c",
        "249292f8", "2318abc1", "e0f44697", "c1037554", "9f3cd341", "807f9808", "6f65bce7", "2fc4e9e4",
        "a80d4894", "29c5b85d", "19ad1ae6", "b5c9f043", "abbf0ffd", "89c78274", "e6a3b4ff", "2002c085",
        "e2767611", "b171538a", "fa44b0c1", "50cbe529", "7e39d921", "f298328f", "ad8e3a65", "59e1f5b8",
        "3fe41504", "48fd834d", "9e68e911", "c9039904", "8c3189ef", "7c1dc777", "c1e16870", "d593e252",
        "0078605e", "4c929dfd", "77619c29", "c9a1ce45", "459cc3d2", "b9a2847a", "c1da8dd1", "b0b120c7",
        "f393eb0e", "6c9e1a44", "0efb8018", "dbaa6159", "9dea0395", "b8a1de7e", "f2875dce", "142aafd4",
        "2efcbfb4", "f20ccf9e", "80c6dd22", "9f3f40d0", "710f2dde", "6a97d031", "086cd5ca", "2662e658",
        "7f40f331", "b6d4687c", "c0101edd", "5dfa70ed", "f0dd2a32", "b30dbc30", "af627343", "8029471a",
        "ab6fcc5b", "42da1cf2", "b25ccb00", "dd5f9873", "4624c19a", "c35c92d5", "25d11a20", "676d46a8",
        "96831fca", "d0233ef1", "dafa5848", "104b3cdb", "1bf3936d", "36a61752", "fe61d68b", "85e75cdb",
        "86193ceb", "2c8ec96c", "8dfba89e", "a30bc3dd", "c62106dd", "1f0e42a3", "ee71ece6", "5ff47954",
        "91d5be63", "d1830426", "4a2caea8", "e3085258", "0dc921d7", "95b44f56", "67d9a7c2", "578ddb45",
        "29da07d0", "6b07715f", "7977866e", "568facfc", "50dc7697", "9a2e9f45", "4a004e9b", "aa38a3ad",
        "c2de387d", "6c3ade75", "2929c7dd", "d2ad1da8", "b838b9e4", "c1e77857", "837d657d", "319fdc32",
        "2cbfb735", "c88c34dd", "4f542e0c", "c65ba9a1", "208fef57", "c314a2b3", "1f48a287", "e0f21aa4",
        "d1bda6a8", "6ca8cd8c", "c7dd55e6", "6597e0c5", "a53ba71a", "5c5ed69b", "2e1a9f35", "45b98f9d",
        "7ee8ab52", "30d3196e", "da6dd348", "ff2c09f1", "bc7f783b", "838ed972", "ec753e02", "11f9e4b7",
        "e444c53e", "f71d1b0e", "e3600b26", "286fcf78", "474488db", "e2be3e64", "8a3d14ef", "c34a9cff",
        "8d8f5189", "91fbc7de", "a09dd95d", "1052e4d6", "d10ee3a0", "969a1838", "c016f7a4", "af503651",
        "5523bbc7", "a13e221d", "e3d12ef7", "4abb4958", "681a7c7e", "2e48c6ad", "75ecaf5e", "e33ac24f",
        "a58658ed", "b25d4457", "f969e6a0", "b98023de", "02cbe024", "e00a4611", "a1d072e5", "36808ef6",
        "d97b9f7d", "027ba331", "8e49e869", "23cd2e09", "2d0c21b1", "f0382b96", "baed4252", "3705ec76",
        "791cd6d5", "89f5103b", "4768b0f3", "65cf45fd", "60f3b759", "511f6a1f", "db420bee", "257ed4d9",
        "d831e537", "9e3d8ad4", "690d55c8", "870d93b3", "c46a2fc3", "031d9b97", "5f6570d2", "ae91bebc",
        "a57267e7", "e3d329ea", "5b4c5758", "267af107", "aa32e293", "9bd17369", "56c2047a", "b027ad18",
        "fb16a9eb", "f43bd258", "6d4d3b59", "97593f0d", "64ad9b3d", "fa3971b1", "3eb075e8", "7fb4e532",
        "8cdb0e00", "a8547e03", "2901c1aa", "c87026c3", "cc93e4d4", "4f21af02", "a320386b", "de61a04d",
        "581c8987", "8a1c3c3d", "3a5e9b21", "2d5aab1d", "2ace9433", "cfd39b1a", "286407d8", "460b7022",
        "39aa73b3", "a7ee70c3", "df3178ca", "a57853e5", "78b47483", "eb4702eb", "82e26486", "088bf0f1",
        "6d4ba8d7", "65c35b50", "df2cadc7", "943f4c8c", "81f844e3", "be693ae6", "f5843fe3", "60bb63e3",
        "6536e68e", "92b45f6b", "468387de", "08c9209c", "34d7bfcc", "144d674a", "b36cfcb8", "4706f747",
        "8901bf79", "dea9e8cb", "005f1584", "c3da03f7", "07696427", "803c4f4a", "0fbbe448", "5ff0ddbd",
        "43ffd88f", "3945b86c", "ac4102fe", "81da5605", "9eb92b15", "a141ede9", "05b758cf", "a733a16b",
        "63b7d427", "b5b3b8e5", "a5d7ec5e", "2b381c0c", "6589b47f", "8e433bbf",
    ]

    /// Whole digests of the long messages.
    static let sha256Long: [Int: String] = [
        1000: "b5b3b8e5fe2210c2a136c44340304cec062b293b096754bf6ac0be471b4b85d4",
        4095: "a5d7ec5e6e291096d9dcab8b5ea33a7059ad527cbf8cbe3813aa5ba8c9208c91",
        4096: "2b381c0cdfa8b9c5e621c9e8250061b795ae88651d806bcc7d6b31d8873e2262",
        4097: "6589b47f9303e1f7431672194836a2566951a2083609ab7763e97d0dd7d060ff",
        65537: "8e433bbf8fc22ae4dca6285cbbda9a2baa511ac43d8fe642d1430399e2495504",
    ]

    /// The kinds and query lengths of the HMAC vectors; each query is `abc...z` repeated.
    static let macMessages: [(kind: String, queryLength: Int)] = [("c", 0), ("c", 1), ("o", 40), ("c", 55), ("c", 64), ("o", 119), ("c", 300)]

    /// By key length (the key is `cfgSecret(length, count: length)`): the MAC text, 16 base64url
    /// characters of HMAC-SHA256 truncated to 96 bits, of `LT1 NUL <kind> NUL kx NUL <query>` for each
    /// of ``macMessages``.
    static let macs: [Int: [String]] = [
        32: ["e_OUbrG0sfjarHmT", "sRO9I6HQsdcIgfzr", "lJhpVPljdqNnvkSY", "AV4Vedpf_FsU9Zpe", "9J9XL7uZZ2Vlgao7", "r2-cRXEigNscujSf", "8lqDPmNE9iI8KMn_"],
        63: ["NWc_8XpW8Tfiem5e", "Jf5ZT2lbSANnUbNW", "bICicQX1R4J-eV0I", "GN38r-p6OsABFvju", "2H1FREVosKHjvaL-", "hk5yFzbZ1_A4fQDw", "IJYiRCcmxqtWN068"],
        64: ["G8vCUBJjmIfyfOmo", "m3ZEdzT5pVGqZ1xT", "H96DoxleO4Tmrw3A", "VbBsjn24u4g_oqj8", "zqlNgVUx2JE4eeCh", "nKBK4qANJqC0Qwb2", "_7tqr6yc0LNYlkrX"],
        65: ["frs4tirNe-KdZpRF", "IxHCEevTnzOpfQW-", "Dr72VLdCCTkkSQnn", "8l07xEurcvISdNPb", "E8Sbz77S0jxRqFr7", "5njbzbheOvFyjPip", "UZwUMQl7Dp5SGI9M"],
        100: ["LdD-aEFGaXiUcWFq", "P7-BhkkfdVb6yh75", "6VNX9Kc0ZInwRL5b", "iEhS2DveY16TMktR", "1OwUb-pY5zbocz6-", "oAr_Cid9NtRyIKmx", "0ski4HxG2vcjC-Us"],
        200: ["JnnyI9Rz_B0eZhM1", "bui9CVD7lJ9ZqLz0", "3P1WKUBUEMh6_VBS", "Qxn6989i6l50Fm8k", "2fQkvw_ixjyjEc22", "ZtbZLkcDxSFWckqs", "-cpvRErEWHyUHAmx"],
    ]
}
