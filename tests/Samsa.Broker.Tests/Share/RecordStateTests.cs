using Samsa.Broker.Share;

namespace Samsa.Broker.Tests.Share;

public class RecordStateTests
{
    // Theory parameters are bytes: the enum is internal, and public test methods cannot take it.
    public static TheoryData<sbyte, sbyte, bool> Pairs()
    {
        (RecordState, RecordState)[] allowed =
        [
            (RecordState.Available, RecordState.Acquired),
            (RecordState.Available, RecordState.Archived),
            (RecordState.Acquired, RecordState.Available),
            (RecordState.Acquired, RecordState.Acknowledged),
            (RecordState.Acquired, RecordState.Archived),
        ];
        var data = new TheoryData<sbyte, sbyte, bool>();
        foreach (var from in Enum.GetValues<RecordState>())
        {
            foreach (var to in Enum.GetValues<RecordState>())
                data.Add((sbyte)from, (sbyte)to, allowed.Contains((from, to)));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Only_kafkas_transitions_are_allowed(sbyte from, sbyte to, bool allowed) =>
        Assert.Equal(allowed, RecordStates.CanTransition((RecordState)from, (RecordState)to));

    [Fact]
    public void The_persisted_bytes_are_kafkas()
    {
        Assert.Equal([0, 1, 2, 4], Enum.GetValues<RecordState>().Select(s => (int)s));
        Assert.True(RecordStates.TryFromPersisted(2, out var acked) && acked == RecordState.Acknowledged);
        Assert.True(RecordStates.TryFromPersisted(1, out var acquired) && acquired == RecordState.Available);
        Assert.False(RecordStates.TryFromPersisted(3, out _));
        Assert.True(RecordStates.IsTerminal(RecordState.Acknowledged) && RecordStates.IsTerminal(RecordState.Archived));
        Assert.False(RecordStates.IsTerminal(RecordState.Available) || RecordStates.IsTerminal(RecordState.Acquired));
    }
}
