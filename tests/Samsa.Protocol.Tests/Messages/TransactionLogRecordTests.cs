using System.Buffers.Binary;
using System.Text;
using Samsa.Protocol.Messages;
using Xunit;

namespace Samsa.Protocol.Tests.Messages;

/// <summary>__transaction_state records must be byte for byte what Kafka's transaction coordinator writes.</summary>
public sealed class TransactionLogRecordTests
{
    [Fact]
    public void Value_v0_has_Kafkas_fixed_layout()
    {
        var value = new TransactionLogValue
        {
            ProducerId = 0x0102030405060708,
            ProducerEpoch = 3,
            TransactionTimeoutMs = 60_000,
            TransactionStatus = 1,
            TransactionPartitions = [new TransactionLogValue.PartitionsSchema { Topic = "t", PartitionIds = [0, 2] }],
            TransactionLastUpdateTimestampMs = 11,
            TransactionStartTimestampMs = 10,
        };
        byte[] bytes = VersionedData.Write(value, 0);

        var expected = new List<byte>();
        void Add(int size, long v)
        {
            var b = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(b, v);
            expected.AddRange(b[(8 - size)..]);
        }
        Add(2, 0);                      // value version
        Add(8, 0x0102030405060708);     // producer id
        Add(2, 3);                      // epoch
        Add(4, 60_000);                 // timeout
        Add(1, 1);                      // status Ongoing
        Add(4, 1);                      // one topic
        Add(2, 1);
        expected.AddRange(Encoding.UTF8.GetBytes("t"));
        Add(4, 2);                      // two partitions
        Add(4, 0);
        Add(4, 2);
        Add(8, 11);                     // last update
        Add(8, 10);                     // start
        Assert.Equal(expected.ToArray(), bytes);
    }

    [Fact]
    public void Value_v1_round_trips_its_tagged_producer_ids()
    {
        var value = new TransactionLogValue { ProducerId = 7, PreviousProducerId = 6, NextProducerId = -1, ProducerEpoch = 0, TransactionStatus = 4, TransactionPartitions = [], ClientTransactionVersion = 2 };
        byte[] bytes = VersionedData.Write(value, 1);
        var decoded = VersionedData.Read<TransactionLogValue>(bytes, out short version);
        Assert.Equal(1, version);
        Assert.NotNull(decoded);
        Assert.Equal(6, decoded.PreviousProducerId);
        Assert.Equal(-1, decoded.NextProducerId);
        Assert.Equal(2, decoded.ClientTransactionVersion);
        Assert.Equal(bytes, VersionedData.Write(decoded, 1));
    }

    [Fact]
    public void Key_is_the_transactional_id_after_version_0()
    {
        byte[] bytes = VersionedData.Write(new TransactionLogKey { TransactionalId = "tx" }, 0);
        Assert.Equal(new byte[] { 0, 0, 0, 2, (byte)'t', (byte)'x' }, bytes);
    }
}
