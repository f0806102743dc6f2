/// The 64-bit FNV-1a hash: cheap, stable across runs and machines. Used for names derived from text
/// (route ids from URIs) and for checking that a small file was written whole (attach's cursor slots);
/// not for anything an adversary controls.
public enum FNV1a {
    public static func hash64<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
