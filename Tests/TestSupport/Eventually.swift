import Foundation

/// Checks `condition` until it holds or `seconds` pass, and says whether it held: the one way a test
/// waits for something another process or thread does (a file appearing, a property changing). A
/// condition that throws counts as not holding yet. There is no upper bound on how long the thing
/// may take in a healthy run, only on how long a broken one keeps the suite waiting.
public func eventually(within seconds: Double, every interval: Double = 0.02, _ condition: () throws -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if (try? condition()) == true { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return (try? condition()) == true
}
