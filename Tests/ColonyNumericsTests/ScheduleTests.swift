import ColonyNumerics
import XCTest

final class ScheduleTests: XCTestCase {
    func testConstant() {
        let schedule = LearningRateSchedule.constant(3e-4)
        XCTAssertEqual(schedule.value(at: 0), 3e-4)
        XCTAssertEqual(schedule.value(at: 1_000_000), 3e-4)
    }

    func testLinearDecayEndpointsMiddleAndBeyond() {
        let schedule = Schedule.linearDecay(from: 1, to: 0.05, over: 100)
        XCTAssertEqual(schedule.value(at: 0), 1)
        XCTAssertEqual(schedule.value(at: 50), 0.525, accuracy: 1e-6)
        XCTAssertEqual(schedule.value(at: 100), 0.05)
        XCTAssertEqual(schedule.value(at: 10_000), 0.05)
        XCTAssertEqual(schedule.value(at: -5), 1)
        XCTAssertEqual(Schedule.linearDecay(from: 1, to: 0, over: 0).value(at: 0), 0)
        XCTAssertEqual(Schedule.linearDecay(from: 0, to: 2, over: 4).value(at: 1), 0.5, "increasing schedules work too")
    }

    /// CleanRL's PPO anneals lr_now = (1 − (update − 1) / num_updates) · lr for update = 1...num_updates.
    func testMatchesCleanRLAnnealing() {
        let (learningRate, updates) = (Float(2.5e-4), 488)
        let schedule = LearningRateSchedule.linearDecay(from: learningRate, to: 0, over: updates)
        for update in [1, 2, 100, 488] {
            let cleanRL = (1 - Float(update - 1) / Float(updates)) * learningRate
            XCTAssertEqual(schedule.value(at: update - 1), cleanRL, accuracy: 1e-9)
        }
    }
}
