using System.Runtime.InteropServices;

namespace Samsa.TestKit;

/// <summary>One record a librdkafka share consumer delivered.</summary>
public readonly record struct ShareDelivery(string Topic, int Partition, long Offset, string Value, short DeliveryCount);

/// <summary>
/// librdkafka's KIP-932 share consumer (rd_kafka_share_*, preview in 2.15, shipped by the
/// librdkafka.redist package Confluent.Kafka depends on), called directly: Confluent.Kafka has no
/// share consumer. Loaded from the same centos8 build as <see cref="MockCluster"/>. A handle is not
/// thread-safe: every call on one instance must come from one thread at a time.
/// Implicit acknowledgement mode (librdkafka's default): what a poll returned is accepted at the
/// next poll, and at close.
/// </summary>
public sealed unsafe class LibrdkafkaShareConsumer : IDisposable
{
    private static readonly Lazy<Api> Native = new(Api.Load);
    private nint _share;

    /// <summary>Creates the consumer with these properties (group.id is required) and subscribes it to <paramref name="topics"/>.</summary>
    public LibrdkafkaShareConsumer(IReadOnlyDictionary<string, string> config, params string[] topics)
    {
        var api = Native.Value;
        var errstr = new byte[512];
        nint conf = api.ConfNew();
        foreach (var (key, value) in config)
        {
            fixed (byte* k = Z(key))
            fixed (byte* v = Z(value))
            fixed (byte* e = errstr)
            {
                if (api.ConfSet(conf, k, v, e, (nuint)errstr.Length) != 0)
                    throw new InvalidOperationException($"rd_kafka_conf_set({key}): {Text(errstr)}");
            }
        }
        fixed (byte* e = errstr)
            _share = api.ShareConsumerNew(conf, e, (nuint)errstr.Length);
        if (_share == 0)
            throw new InvalidOperationException("rd_kafka_share_consumer_new failed: " + Text(errstr));
        nint list = api.ListNew(topics.Length);
        try
        {
            foreach (var topic in topics)
            {
                fixed (byte* t = Z(topic))
                    api.ListAdd(list, t, -1);
            }
            int error = api.Subscribe(_share, list);
            if (error != 0)
                throw new InvalidOperationException($"rd_kafka_share_subscribe failed with librdkafka error {error}.");
        }
        finally
        {
            api.ListDestroy(list);
        }
    }

    /// <summary>
    /// One rd_kafka_share_poll: the records it returned (record-level errors are returned as
    /// <see cref="Errors"/>, not thrown). Throws for an error of the poll itself.
    /// </summary>
    public IReadOnlyList<ShareDelivery> Poll(TimeSpan timeout)
    {
        var api = Native.Value;
        nint messages = 0;
        nint error = api.Poll(_share, (int)timeout.TotalMilliseconds, &messages);
        if (error != 0)
        {
            int code = api.ErrorCode(error);
            string text = Marshal.PtrToStringUTF8(api.ErrorString(error)) ?? "";
            api.ErrorDestroy(error);
            throw new InvalidOperationException($"rd_kafka_share_poll failed: {code} {text}");
        }
        var result = new List<ShareDelivery>();
        if (messages == 0)
            return result;
        try
        {
            nuint count = api.MessagesCount(messages);
            for (nuint i = 0; i < count; i++)
            {
                var m = (Message*)api.MessagesGet(messages, i);
                if (m->Err != 0)
                {
                    Errors.Add($"{m->Err} at offset {m->Offset}");
                    continue;
                }
                string topic = Marshal.PtrToStringUTF8(api.TopicName(m->Rkt)) ?? "";
                string value = m->Payload == 0 ? "" : System.Text.Encoding.UTF8.GetString((byte*)m->Payload, checked((int)m->Len));
                result.Add(new ShareDelivery(topic, m->Partition, m->Offset, value, api.DeliveryCount((nint)m)));
            }
        }
        finally
        {
            api.MessagesDestroy(messages);
        }
        return result;
    }

    /// <summary>
    /// rd_kafka_share_commit_sync: in implicit mode, accepts what the last poll returned and waits
    /// for the broker's answers. Returns the librdkafka error codes of partitions that failed.
    /// </summary>
    public IReadOnlyList<int> CommitSync(TimeSpan timeout)
    {
        var api = Native.Value;
        nint partitions = 0;
        nint error = api.CommitSync(_share, (int)timeout.TotalMilliseconds, &partitions);
        if (error != 0)
        {
            int code = api.ErrorCode(error);
            api.ErrorDestroy(error);
            throw new InvalidOperationException($"rd_kafka_share_commit_sync failed: {code}");
        }
        var failed = new List<int>();
        if (partitions == 0)
            return failed;
        var list = (PartitionList*)partitions;
        for (int i = 0; i < list->Count; i++)
        {
            if (list->Elems[i].Err != 0)
                failed.Add(list->Elems[i].Err);
        }
        api.ListDestroy(partitions);
        return failed;
    }

    /// <summary>Record-level errors seen by <see cref="Poll"/>.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>rd_kafka_share_consumer_close: sends what is still to acknowledge and leaves the group.</summary>
    public void Close()
    {
        if (_share == 0)
            return;
        nint error = Native.Value.Close(_share);
        if (error != 0)
            Native.Value.ErrorDestroy(error);
    }

    public void Dispose()
    {
        if (_share == 0)
            return;
        nint error = Native.Value.Destroy(_share);
        if (error != 0)
            Native.Value.ErrorDestroy(error);
        _share = 0;
    }

    private static byte[] Z(string s) => System.Text.Encoding.UTF8.GetBytes(s + "\0");

    private static string Text(byte[] errstr) => System.Text.Encoding.UTF8.GetString(errstr).TrimEnd('\0');

    /// <summary>rd_kafka_message_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Message
    {
        public int Err;
        public nint Rkt;
        public int Partition;
        public nint Payload;
        public nuint Len;
        public nint Key;
        public nuint KeyLen;
        public long Offset;
        public nint Private;
    }

    /// <summary>rd_kafka_topic_partition_list_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PartitionList
    {
        public int Count;
        public int Size;
        public TopicPartition* Elems;
    }

    /// <summary>rd_kafka_topic_partition_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct TopicPartition
    {
        public nint Topic;
        public int Partition;
        public long Offset;
        public nint Metadata;
        public nuint MetadataSize;
        public nint Opaque;
        public int Err;
        public nint Private;
    }

    private sealed class Api
    {
        public delegate* unmanaged<nint, int, nint*, nint> CommitSync;
        public delegate* unmanaged<nint> ConfNew;
        public delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int> ConfSet;
        public delegate* unmanaged<nint, byte*, nuint, nint> ShareConsumerNew;
        public delegate* unmanaged<int, nint> ListNew;
        public delegate* unmanaged<nint, byte*, int, nint> ListAdd;
        public delegate* unmanaged<nint, void> ListDestroy;
        public delegate* unmanaged<nint, nint, int> Subscribe;
        public delegate* unmanaged<nint, int, nint*, nint> Poll;
        public delegate* unmanaged<nint, nuint> MessagesCount;
        public delegate* unmanaged<nint, nuint, nint> MessagesGet;
        public delegate* unmanaged<nint, void> MessagesDestroy;
        public delegate* unmanaged<nint, short> DeliveryCount;
        public delegate* unmanaged<nint, nint> TopicName;
        public delegate* unmanaged<nint, int> ErrorCode;
        public delegate* unmanaged<nint, nint> ErrorString;
        public delegate* unmanaged<nint, void> ErrorDestroy;
        public delegate* unmanaged<nint, nint> Close;
        public delegate* unmanaged<nint, nint> Destroy;

        public static Api Load()
        {
            string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "centos8-librdkafka.so");
            nint lib = NativeLibrary.Load(path);
            nint F(string name) => NativeLibrary.GetExport(lib, name);
            return new Api
            {
                ConfNew = (delegate* unmanaged<nint>)F("rd_kafka_conf_new"),
                ConfSet = (delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int>)F("rd_kafka_conf_set"),
                ShareConsumerNew = (delegate* unmanaged<nint, byte*, nuint, nint>)F("rd_kafka_share_consumer_new"),
                ListNew = (delegate* unmanaged<int, nint>)F("rd_kafka_topic_partition_list_new"),
                ListAdd = (delegate* unmanaged<nint, byte*, int, nint>)F("rd_kafka_topic_partition_list_add"),
                ListDestroy = (delegate* unmanaged<nint, void>)F("rd_kafka_topic_partition_list_destroy"),
                Subscribe = (delegate* unmanaged<nint, nint, int>)F("rd_kafka_share_subscribe"),
                Poll = (delegate* unmanaged<nint, int, nint*, nint>)F("rd_kafka_share_poll"),
                MessagesCount = (delegate* unmanaged<nint, nuint>)F("rd_kafka_messages_count"),
                MessagesGet = (delegate* unmanaged<nint, nuint, nint>)F("rd_kafka_messages_get"),
                MessagesDestroy = (delegate* unmanaged<nint, void>)F("rd_kafka_messages_destroy"),
                DeliveryCount = (delegate* unmanaged<nint, short>)F("rd_kafka_message_delivery_count"),
                TopicName = (delegate* unmanaged<nint, nint>)F("rd_kafka_topic_name"),
                ErrorCode = (delegate* unmanaged<nint, int>)F("rd_kafka_error_code"),
                ErrorString = (delegate* unmanaged<nint, nint>)F("rd_kafka_error_string"),
                ErrorDestroy = (delegate* unmanaged<nint, void>)F("rd_kafka_error_destroy"),
                Close = (delegate* unmanaged<nint, nint>)F("rd_kafka_share_consumer_close"),
                CommitSync = (delegate* unmanaged<nint, int, nint*, nint>)F("rd_kafka_share_commit_sync"),
                Destroy = (delegate* unmanaged<nint, nint>)F("rd_kafka_share_destroy"),
            };
        }
    }
}
