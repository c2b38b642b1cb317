using System.Runtime.InteropServices;

namespace Samsa.TestKit;

/// <summary>
/// librdkafka's built-in mock cluster: an independent, multi-broker Kafka implementation listening
/// on loopback, used to test our client and our message encodings against something we did not
/// write. Loaded from the centos8 build that Confluent.Kafka ships (the default build needs
/// libsasl2.so.3, which Debian lacks).
/// </summary>
public sealed unsafe class MockCluster : IDisposable
{
    private static readonly Lazy<Api> Native = new(Api.Load);
    private readonly nint _rk;
    private nint _cluster;

    public MockCluster(int brokers = 3)
    {
        var api = Native.Value;
        var errstr = new byte[512];
        nint conf = api.ConfNew();
        fixed (byte* e = errstr)
            _rk = api.New(0, conf, e, (nuint)errstr.Length);
        if (_rk == 0)
            throw new InvalidOperationException("rd_kafka_new failed: " + System.Text.Encoding.UTF8.GetString(errstr).TrimEnd('\0'));
        _cluster = api.ClusterNew(_rk, brokers);
        if (_cluster == 0)
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        BootstrapServers = Marshal.PtrToStringUTF8(api.Bootstraps(_cluster))!;
    }

    /// <summary>"127.0.0.1:port,127.0.0.1:port,..." — one entry per mock broker (ids 1..n).</summary>
    public string BootstrapServers { get; }

    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        fixed (byte* n = Z(name))
            Check(Native.Value.TopicCreate(_cluster, n, partitions, replicationFactor), "rd_kafka_mock_topic_create");
    }

    public void SetBrokerDown(int brokerId) => Check(Native.Value.BrokerDown(_cluster, brokerId), "rd_kafka_mock_broker_set_down");

    public void SetBrokerUp(int brokerId) => Check(Native.Value.BrokerUp(_cluster, brokerId), "rd_kafka_mock_broker_set_up");

    /// <summary>Makes <paramref name="brokerId"/> the coordinator of a group ("group") or transactional id ("transaction").</summary>
    public void SetCoordinator(string keyType, string key, int brokerId)
    {
        fixed (byte* t = Z(keyType))
        fixed (byte* k = Z(key))
            Check(Native.Value.CoordinatorSet(_cluster, t, k, brokerId), "rd_kafka_mock_coordinator_set");
    }

    /// <summary>The next requests of <paramref name="apiKey"/> fail with these error codes, in order.</summary>
    public void PushRequestErrors(short apiKey, params short[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        fixed (int* p = codes)
            Native.Value.PushErrorsArray(_cluster, apiKey, (nuint)codes.Length, p);
    }

    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        fixed (byte* t = Z(topic))
            Check(Native.Value.PartitionSetLeader(_cluster, t, partition, brokerId), "rd_kafka_mock_partition_set_leader");
    }

    /// <summary>
    /// group.consumer.session.timeout.ms of KIP-848 groups (the mock's default is 30 s). The mock reads
    /// it on every heartbeat and checks for expired members once a second, so a member is removed
    /// between this and this plus one second after its last heartbeat.
    /// </summary>
    public void SetGroupConsumerSessionTimeout(TimeSpan timeout) => Native.Value.SetConsumerSessionTimeout(_cluster, checked((int)timeout.TotalMilliseconds));

    /// <summary>group.consumer.heartbeat.interval.ms of KIP-848 groups (the mock's default is 3 s), which members are told to heartbeat at.</summary>
    public void SetGroupConsumerHeartbeatInterval(TimeSpan interval) => Native.Value.SetConsumerHeartbeatInterval(_cluster, checked((int)interval.TotalMilliseconds));

    /// <summary>
    /// group.share.session.timeout.ms of share groups created after this call (the mock's default
    /// is 45 s). The mock also expires a share session that sees no ShareFetch or ShareAcknowledge
    /// for this long, releasing its records.
    /// </summary>
    public void SetShareGroupSessionTimeout(TimeSpan timeout) => Native.Value.ShareSessionTimeout(_cluster, checked((int)timeout.TotalMilliseconds));

    /// <summary>group.share.heartbeat.interval.ms of share groups created after this call (the mock's default is 5 s).</summary>
    public void SetShareGroupHeartbeatInterval(TimeSpan interval) => Native.Value.ShareHeartbeatInterval(_cluster, checked((int)interval.TotalMilliseconds));

    /// <summary>group.share.record.lock.duration.ms (the mock's default is 30 s); the mock checks for expired locks once a second.</summary>
    public void SetShareRecordLockDuration(TimeSpan duration) => Native.Value.ShareRecordLockDuration(_cluster, checked((int)duration.TotalMilliseconds));

    /// <summary>group.share.delivery.count.limit (the mock's default is 5).</summary>
    public void SetShareMaxDeliveryAttempts(int attempts) => Native.Value.ShareMaxDeliveryAttempts(_cluster, attempts);

    /// <summary>share.auto.offset.reset of share groups (the mock's default is latest): true starts a share partition at the log start.</summary>
    public void SetShareAutoOffsetResetEarliest(bool earliest) => Native.Value.ShareAutoOffsetReset(_cluster, earliest ? 1 : 0);

    /// <summary>The member ids of a share group (empty when the mock has no such group).</summary>
    public IReadOnlyList<string> ShareGroupMemberIds(string group)
    {
        var api = Native.Value;
        nint ids;
        nuint count;
        fixed (byte* g = Z(group))
        {
            if (api.ShareMemberIds(_cluster, g, &ids, &count) != 0)
                return [];
        }
        var result = new List<string>();
        for (nuint i = 0; i < count; i++)
        {
            nint id = ((nint*)ids)[i];
            result.Add(Marshal.PtrToStringUTF8(id)!);
            api.MemFree(_rk, id);
        }
        if (ids != 0)
            api.MemFree(_rk, ids);
        return result;
    }

    /// <summary>
    /// Replaces the mock's share-group assignor for <paramref name="group"/> with a fixed assignment:
    /// each member gets the partitions listed for it (several members may get the same partition,
    /// which is what Kafka's share assignor does when there are more members than partitions; the
    /// mock's own assignor splits partitions like a range assignor and gives a partition to one
    /// member only). Members that join later get nothing until this is called again.
    /// </summary>
    public void SetShareGroupAssignment(string group, IReadOnlyDictionary<string, IReadOnlyList<(string Topic, int Partition)>> assignment)
    {
        var api = Native.Value;
        var members = assignment.Keys.ToList();
        var names = members.Select(m => Marshal.StringToCoTaskMemUTF8(m)).ToArray();
        var lists = new nint[members.Count];
        try
        {
            for (int i = 0; i < members.Count; i++)
            {
                lists[i] = api.PartitionListNew(Math.Max(1, assignment[members[i]].Count));
                foreach (var (topic, partition) in assignment[members[i]])
                {
                    fixed (byte* t = Z(topic))
                        api.PartitionListAdd(lists[i], t, partition);
                }
            }
            fixed (byte* g = Z(group))
            fixed (nint* n = names)
            fixed (nint* l = lists)
                api.ShareTargetAssignment(_cluster, g, n, l, (nuint)members.Count);
        }
        finally
        {
            foreach (var list in lists.Where(l => l != 0))
                api.PartitionListDestroy(list);
            foreach (var name in names)
                Marshal.FreeCoTaskMem(name);
        }
    }

    /// <summary>A NUL-terminated UTF-8 copy, pinned by the caller for the duration of the call (librdkafka copies it).</summary>
    private static byte[] Z(string s) => System.Text.Encoding.UTF8.GetBytes(s + "\0");

    private static void Check(int error, string call)
    {
        if (error != 0)
            throw new InvalidOperationException($"{call} failed with librdkafka error {error}.");
    }

    public void Dispose()
    {
        if (_cluster != 0)
        {
            Native.Value.ClusterDestroy(_cluster);
            _cluster = 0;
            Native.Value.Destroy(_rk);
        }
    }

    private sealed class Api
    {
        public delegate* unmanaged<nint> ConfNew;
        public delegate* unmanaged<int, nint, byte*, nuint, nint> New;
        public delegate* unmanaged<nint, void> Destroy;
        public delegate* unmanaged<nint, int, nint> ClusterNew;
        public delegate* unmanaged<nint, void> ClusterDestroy;
        public delegate* unmanaged<nint, nint> Bootstraps;
        public delegate* unmanaged<nint, byte*, int, int, int> TopicCreate;
        public delegate* unmanaged<nint, int, int> BrokerDown;
        public delegate* unmanaged<nint, int, int> BrokerUp;
        public delegate* unmanaged<nint, byte*, byte*, int, int> CoordinatorSet;
        public delegate* unmanaged<nint, short, nuint, int*, void> PushErrorsArray;
        public delegate* unmanaged<nint, byte*, int, int, int> PartitionSetLeader;
        public delegate* unmanaged<nint, int, void> SetConsumerSessionTimeout;
        public delegate* unmanaged<nint, int, void> SetConsumerHeartbeatInterval;
        public delegate* unmanaged<nint, int, void> ShareSessionTimeout;
        public delegate* unmanaged<nint, int, void> ShareHeartbeatInterval;
        public delegate* unmanaged<nint, int, void> ShareRecordLockDuration;
        public delegate* unmanaged<nint, int, void> ShareMaxDeliveryAttempts;
        public delegate* unmanaged<nint, int, void> ShareAutoOffsetReset;
        public delegate* unmanaged<nint, byte*, nint*, nuint*, int> ShareMemberIds;
        public delegate* unmanaged<nint, byte*, nint*, nint*, nuint, void> ShareTargetAssignment;
        public delegate* unmanaged<int, nint> PartitionListNew;
        public delegate* unmanaged<nint, byte*, int, nint> PartitionListAdd;
        public delegate* unmanaged<nint, void> PartitionListDestroy;
        public delegate* unmanaged<nint, nint, void> MemFree;

        public static Api Load()
        {
            string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "centos8-librdkafka.so");
            nint lib = NativeLibrary.Load(path);
            nint F(string name) => NativeLibrary.GetExport(lib, name);
            return new Api
            {
                ConfNew = (delegate* unmanaged<nint>)F("rd_kafka_conf_new"),
                New = (delegate* unmanaged<int, nint, byte*, nuint, nint>)F("rd_kafka_new"),
                Destroy = (delegate* unmanaged<nint, void>)F("rd_kafka_destroy"),
                ClusterNew = (delegate* unmanaged<nint, int, nint>)F("rd_kafka_mock_cluster_new"),
                ClusterDestroy = (delegate* unmanaged<nint, void>)F("rd_kafka_mock_cluster_destroy"),
                Bootstraps = (delegate* unmanaged<nint, nint>)F("rd_kafka_mock_cluster_bootstraps"),
                TopicCreate = (delegate* unmanaged<nint, byte*, int, int, int>)F("rd_kafka_mock_topic_create"),
                BrokerDown = (delegate* unmanaged<nint, int, int>)F("rd_kafka_mock_broker_set_down"),
                BrokerUp = (delegate* unmanaged<nint, int, int>)F("rd_kafka_mock_broker_set_up"),
                CoordinatorSet = (delegate* unmanaged<nint, byte*, byte*, int, int>)F("rd_kafka_mock_coordinator_set"),
                PushErrorsArray = (delegate* unmanaged<nint, short, nuint, int*, void>)F("rd_kafka_mock_push_request_errors_array"),
                PartitionSetLeader = (delegate* unmanaged<nint, byte*, int, int, int>)F("rd_kafka_mock_partition_set_leader"),
                SetConsumerSessionTimeout = (delegate* unmanaged<nint, int, void>)F("rd_kafka_mock_set_group_consumer_session_timeout_ms"),
                SetConsumerHeartbeatInterval = (delegate* unmanaged<nint, int, void>)F("rd_kafka_mock_set_group_consumer_heartbeat_interval_ms"),
                ShareSessionTimeout = (delegate* unmanaged<nint, int, void>)F("rd_kafka_mock_sharegroup_set_session_timeout"),
                ShareHeartbeatInterval = (delegate* unmanaged<nint, int, void>)F("rd_kafka_mock_sharegroup_set_heartbeat_interval"),
                ShareRecordLockDuration = (delegate* unmanaged<nint, int, void>)F("rd_kafka_mock_sharegroup_set_record_lock_duration"),
                ShareMaxDeliveryAttempts = (delegate* unmanaged<nint, int, void>)F("rd_kafka_mock_sharegroup_set_max_delivery_attempts"),
                ShareAutoOffsetReset = (delegate* unmanaged<nint, int, void>)F("rd_kafka_mock_sharegroup_set_auto_offset_reset"),
                ShareMemberIds = (delegate* unmanaged<nint, byte*, nint*, nuint*, int>)F("rd_kafka_mock_sharegroup_get_member_ids"),
                ShareTargetAssignment = (delegate* unmanaged<nint, byte*, nint*, nint*, nuint, void>)F("rd_kafka_mock_sharegroup_target_assignment"),
                PartitionListNew = (delegate* unmanaged<int, nint>)F("rd_kafka_topic_partition_list_new"),
                PartitionListAdd = (delegate* unmanaged<nint, byte*, int, nint>)F("rd_kafka_topic_partition_list_add"),
                PartitionListDestroy = (delegate* unmanaged<nint, void>)F("rd_kafka_topic_partition_list_destroy"),
                MemFree = (delegate* unmanaged<nint, nint, void>)F("rd_kafka_mem_free"),
            };
        }
    }
}
