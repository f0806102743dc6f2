/// How many generations of a container's log the engine deleted before attach opened them, told from the
/// rotations inotify reported (each makes a new `<id>-json.log`) and what a scan of the generations found.
///
/// Rotations are numbered as counted: the file attach opened first is 0, the file made by the n-th
/// rotation is n. `newest` is the number of the newest file attach holds; it never runs ahead of the true
/// one (the count can only fall short: events lost, or not read yet), so a deletion is never told where
/// none was made, only missed when events were lost.
struct RotationCount: Equatable {
    /// New `<id>-json.log` files inotify reported.
    private(set) var seen = 0
    /// The rotation that made the newest file held.
    private(set) var newest = 0

    /// inotify reported a new `<id>-json.log`.
    mutating func rotated() { seen += 1 }

    /// The new `<id>-json.log` is one held already: it was made by every rotation counted, or later.
    mutating func newestHeld() { newest = max(newest, seen) }

    /// A scan from the new `<id>-json.log` down the generations found `found` files newer than the newest
    /// held (the new one with them); `reached`: it came down to a file held. Returns how many files made
    /// in between were deleted: none when it reached one held; else as many rotations as were counted
    /// beyond the files found (with `max-file` = M, the file held is deleted by the M-th rotation after it,
    /// and M files are then there; the (M+1)-th deletes one unread).
    mutating func scanned(found: Int, reached: Bool) -> Int {
        let deleted = reached ? 0 : max(0, seen - found - newest)
        newest = max(newest + found, seen)
        return deleted
    }
}
