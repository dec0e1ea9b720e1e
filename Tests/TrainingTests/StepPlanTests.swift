import Testing
import Inference
@testable import Training

/// How epochs become steps: N ranks of batch b take, step by step, the micro-batches of one
/// process with batch b accumulating N.
struct StepPlanTests {
    @Test func nRanksTakeTheMicroBatchesOfOneProcessAccumulatingN() {
        let cases = [1, 2, 3, 5, 7, 12, 13].flatMap { scans in
            [1, 2, 3].flatMap { batch in [1, 2, 3, 4].flatMap { ranks in [1, 2].map { (scans, batch, ranks, $0) } } }
        }
        for (scans, batch, ranks, accumulate) in cases {
            let order = (0 ..< scans).map { ($0 * 7 + 3) % scans }  // any order: a permutation
            let alone = StepPlan(batchSize: batch, accumulate: ranks * accumulate)
            let plans = (0 ..< ranks).map { StepPlan(batchSize: batch, accumulate: accumulate, ranks: ranks, rank: $0) }
            let steps = alone.steps(scans: scans)
            #expect(plans.allSatisfy { $0.steps(scans: scans) == steps && $0.globalBatch == alone.globalBatch })
            var seen: [Int] = []
            for step in 0 ..< steps {
                let expected = alone.share(ofStep: step, order: order)
                let shares = plans.map { $0.share(ofStep: step, order: order) }
                // Every rank divides by the step's micro-batches on all ranks, as the lone process does.
                #expect(shares.allSatisfy { $0.count == expected.count })
                #expect(shares.map(\.mine.count).reduce(0, +) == expected.mine.count)
                // Micro-batch k of the step is on rank k mod N.
                for (k, microBatch) in expected.mine.enumerated() {
                    #expect(shares[k % ranks].mine[k / ranks] == microBatch)
                }
                #expect(expected.mine.allSatisfy { $0.count <= batch && !$0.isEmpty })
                seen += expected.mine.flatMap { $0 }
            }
            // Every scan once per epoch, in the shuffled order; only the last step may be short.
            #expect(seen == order, "scans \(scans), batch \(batch), ranks \(ranks)")
            #expect((0 ..< steps - 1).allSatisfy { alone.share(ofStep: $0, order: order).count == alone.microBatchesPerStep })
        }
    }

    @Test func theLastStepAveragesOverTheMicroBatchesItHas() {
        // Three scans, two ranks of one: step 0 has scans on both ranks, step 1 one on rank 0.
        let order = [2, 0, 1]
        let zero = StepPlan(batchSize: 1, ranks: 2, rank: 0), one = StepPlan(batchSize: 1, ranks: 2, rank: 1)
        #expect(zero.steps(scans: 3) == 2)
        #expect(zero.share(ofStep: 0, order: order).mine == [[2]] && one.share(ofStep: 0, order: order).mine == [[0]])
        #expect(zero.share(ofStep: 1, order: order).mine == [[1]] && zero.share(ofStep: 1, order: order).count == 1)
        #expect(one.share(ofStep: 1, order: order).mine.isEmpty && one.share(ofStep: 1, order: order).count == 1)
        // A short last micro-batch: five scans in batches of two.
        let plan = StepPlan(batchSize: 2, accumulate: 2)
        #expect(plan.share(ofStep: 1, order: [0, 1, 2, 3, 4]).mine == [[4]])
    }

    @Test func resumingKeepsTheGlobalBatchWhereWholeMicroBatchesCan() {
        let run = StepPlan(batchSize: 1, accumulate: 1, ranks: 4, rank: 0)  // 4 scans per step
        #expect(StepPlan(batchSize: 1).accumulating(toGlobalBatch: run.globalBatch) == StepPlan(batchSize: 1, accumulate: 4))
        #expect(StepPlan(batchSize: 2, ranks: 2, rank: 1).accumulating(toGlobalBatch: 4) == StepPlan(batchSize: 2, ranks: 2, rank: 1))
        #expect(StepPlan(batchSize: 1, ranks: 3, rank: 0).accumulating(toGlobalBatch: 4) == nil)
        #expect(StepPlan(batchSize: 4, ranks: 2, rank: 0).accumulating(toGlobalBatch: 4) == nil)
        let launch = TrainingConfig.Launch(ranks: 2, batchPerRank: 3, accumulate: 4)
        #expect(launch.globalBatch == 24)
        #expect(TrainingConfig.Launch(progressEntries: launch.progressEntries) == launch)
        #expect(TrainingConfig.Launch(progressEntries: ["best_miou": "0.5"]) == nil)  // a state of an earlier release
    }
}
