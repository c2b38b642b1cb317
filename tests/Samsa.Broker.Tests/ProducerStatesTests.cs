using Samsa.Broker.Topics;
using Samsa.Protocol;

namespace Samsa.Broker.Tests;

public class ProducerStatesTests
{
    [Fact]
    public void Retries_are_recognised_gaps_refused_and_old_epochs_fenced()
    {
        var states = new ProducerStates();
        Assert.Equal((ErrorCode.None, -1L), states.Check(7, 0, 0, 4));
        states.Appended(7, 0, 0, 4, 100);
        Assert.Equal((ErrorCode.None, -1L), states.Check(7, 0, 5, 9));
        states.Appended(7, 0, 5, 9, 105);
        Assert.Equal((ErrorCode.None, 100L), states.Check(7, 0, 0, 4));   // retry of the first batch
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, states.Check(7, 0, 12, 13).Error); // gap
        Assert.Equal(ErrorCode.InvalidProducerEpoch, states.Check(7, -1, 10, 10).Error);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, states.Check(7, 1, 3, 3).Error); // new epoch starts at 0
        Assert.Equal((ErrorCode.None, -1L), states.Check(7, 1, 0, 0));
        Assert.Equal((ErrorCode.None, -1L), states.Check(8, 0, 42, 42)); // unknown producer (e.g. after a restart)
    }
}
