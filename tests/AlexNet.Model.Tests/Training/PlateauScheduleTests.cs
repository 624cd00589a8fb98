using AlexNet.Model.Training;

namespace AlexNet.Model.Tests.Training;

public sealed class PlateauScheduleTests
{
    [Fact]
    public void RateDropsByTenAfterPatienceEpochsWithoutImprovementAtMostMaxDropsTimes()
    {
        var schedule = new PlateauSchedule { LearningRate = 0.01, Patience = 2, MaxDrops = 2 };
        var rates = new List<double>();
        bool converged = false;
        foreach (double error in new[] { 0.5, 0.4, 0.41, 0.42, 0.39, 0.39, 0.40, 0.38, 0.38, 0.38 })
        {
            (schedule, converged) = schedule.Observe(error);
            rates.Add(schedule.LearningRate);
            if (converged)
                break;
        }

        Assert.Equal([0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.0001, 0.0001, 0.0001, 0.0001], rates, new Tolerance());
        Assert.True(converged);
        Assert.Equal(2, schedule.Drops);
        Assert.Equal(0.38, schedule.BestValidationError);
    }

    private sealed class Tolerance : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-12;

        public int GetHashCode(double obj) => 0;
    }
}
