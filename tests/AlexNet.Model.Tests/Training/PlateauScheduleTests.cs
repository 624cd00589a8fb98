using AlexNet.Model.Training;

namespace AlexNet.Model.Tests.Training;

public sealed class PlateauScheduleTests
{
    [Fact]
    public void RateDropsByTenAfterPatienceStepsWithoutImprovementAtMostMaxDropsTimes()
    {
        // Validation every 10 steps; a plateau is 20 steps.
        var schedule = new PlateauSchedule { LearningRate = 0.01, PatienceSteps = 20, MaxDrops = 2 };
        var rates = new List<double>();
        bool converged = false;
        long step = 0;
        foreach (double error in new[] { 0.5, 0.4, 0.41, 0.42, 0.39, 0.39, 0.40, 0.38, 0.38, 0.38 })
        {
            step += 10;
            (schedule, converged) = schedule.Observe(error, step);
            rates.Add(schedule.LearningRate);
            if (converged)
                break;
        }

        Assert.Equal([0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.0001, 0.0001, 0.0001, 0.0001], rates, new Tolerance());
        Assert.True(converged);
        Assert.Equal(2, schedule.Drops);
        Assert.Equal(0.38, schedule.BestValidationError);
    }

    [Fact]
    public void ANetworkStillAtChanceKeepsItsRateUntilThePlateauHasLastedItsSteps()
    {
        // The paper's 3 epochs of a 1,260-image set at batch 128 are 30 steps: at chance, the rate fell at step 40.
        var schedule = new PlateauSchedule { LearningRate = 0.01, PatienceSteps = 400, MaxDrops = 3 };
        for (long step = 10; step < 400; step += 10)
        {
            (schedule, bool converged) = schedule.Observe(0.9, step);
            Assert.False(converged);
            Assert.Equal(0.01, schedule.LearningRate);
        }
        (schedule, _) = schedule.Observe(0.9, 410);
        Assert.Equal(0.001, schedule.LearningRate, 12);
    }

    [Fact]
    public void WarmUpRampsLinearlyFromATenthToTheRate()
    {
        var schedule = new PlateauSchedule { LearningRate = 0.01, PatienceSteps = 10, MaxDrops = 3, WarmupSteps = 10 };

        Assert.Equal(0.0019, schedule.RateAt(0), 12);
        Assert.Equal(0.0055, schedule.RateAt(4), 12);
        Assert.Equal(0.01, schedule.RateAt(9), 12);
        Assert.Equal(0.01, schedule.RateAt(1000), 12);
        Assert.Equal(0.01, (schedule with { WarmupSteps = 0 }).RateAt(0), 12);
    }

    private sealed class Tolerance : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-12;

        public int GetHashCode(double obj) => 0;
    }
}
