using Microsoft.Extensions.Logging;
using Samsa.Storage;

namespace Samsa.Broker.Topics;

/// <summary>
/// The data directory's layout, made so that creating a topic is all or nothing. A partition
/// directory counts only once it has its <c>partition.metadata</c> (the topic id, Kafka's file),
/// written last: for a new topic every other partition's first and partition 0's at the very end.
/// A failure part-way (full disk, read-only directory) removes what was made and answers
/// KAFKA_STORAGE_ERROR; what a crash part-way leaves behind (empty logs without the file) is removed
/// at the next start. A topic id, once written, never changes. Deleted partitions are renamed to
/// <c>…-delete</c> before their files go, so a deletion cut short is finished at start-up instead of
/// bringing the topic back.
/// </summary>
internal sealed partial class TopicManager
{
    private const string MetadataFile = "partition.metadata";
    private const string ConfigFile = "topic.config";
    private const string DeletedSuffix = "-delete";

    /// <summary>
    /// Opens a partition's log. A marker the transaction coordinator appends in-process moves the
    /// last stable offset without a produce: it wakes waiting fetches as a produce does.
    /// </summary>
    private PartitionLog OpenLog(string directory)
    {
        var log = PartitionLog.Open(directory, DefaultLogConfig, _logger, _options.TimeProvider);
        log.MarkerAppended += _ => Appends.Appended();
        return log;
    }

    private string PartitionPath(string topic, int partition) => Path.Combine(_options.DataDirectory, $"{topic}-{partition}");

    /// <summary>
    /// Opens partitions <paramref name="first"/>.. of a topic being created or grown, or removes
    /// them again and says why (naming the path) when the disk refuses. Caller holds the create lock.
    /// </summary>
    private string? CreatePartitions(string topic, Guid id, int first, int count, IReadOnlyDictionary<string, string>? configs, out PartitionLog[] logs)
    {
        var created = new List<PartitionLog>();
        string where = PartitionPath(topic, first);
        try
        {
            for (int p = first; p < first + count; p++)
            {
                where = PartitionPath(topic, p);
                created.Add(OpenLog(where));
            }
            if (configs is { Count: > 0 })
            {
                where = Path.Combine(created[0].Directory, ConfigFile);
                WriteConfigs(created[0].Directory, configs);
            }
            // The commit: a new topic's partition 0 last, since the start-up check looks there first.
            foreach (var log in created.AsEnumerable().Reverse())
            {
                where = Path.Combine(log.Directory, MetadataFile);
                WriteTopicId(log.Directory, id);
            }
            logs = [.. created];
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var log in created)
            {
                log.Dispose();
                RemoveDirectory(log.Directory);
            }
            _logger.LogError("Creating partitions {First}-{Last} of {Topic} failed at {Path}: {Message}; nothing was created", first, first + count - 1, topic, where, e.Message);
            logs = [];
            return $"{where}: {e.Message}. No partition was created.";
        }
    }

    /// <summary>
    /// A topic found at start-up, or null when it was never committed. Partitions are taken from 0
    /// up to the first gap; empty partitions without their metadata file at the end of the topic
    /// (a creation cut short) are removed; a partition with records but no file (an older layout)
    /// is kept and given the topic's id.
    /// </summary>
    private Topic? LoadTopic(string name, SortedDictionary<int, string> parts)
    {
        var dirs = new List<string>();
        while (parts.TryGetValue(dirs.Count, out var dir))
            dirs.Add(dir);
        foreach (var (index, dir) in parts.Where(p => p.Key >= dirs.Count))
            _logger.LogWarning("{Dir}: ignored, partition {Missing} of {Topic} is missing", dir, dirs.Count, name);
        if (dirs.Count == 0)
            return null;
        var ids = dirs.Select(ReadTopicId).ToList();
        var logs = dirs.Select(OpenLog).ToList();
        bool Uncommitted(int p) => ids[p] is null && logs[p].LogEndOffset == 0;

        if (Uncommitted(0) && Enumerable.Range(0, logs.Count).All(p => ids[p] is not null || logs[p].LogEndOffset == 0))
        {
            _logger.LogWarning("{Topic}: its creation did not finish before the broker stopped; removing its {Count} empty partition(s)", name, logs.Count);
            DropFrom(0);
            return null;
        }
        int last = logs.Count;
        while (last > 1 && Uncommitted(last - 1))
            last--;
        if (last < logs.Count)
        {
            _logger.LogWarning("{Topic}: partitions {First}-{Last} were being added when the broker stopped; removing them", name, last, logs.Count - 1);
            DropFrom(last);
        }
        Guid id = ids.FirstOrDefault(i => i is not null) ?? Guid.NewGuid();
        for (int p = 0; p < logs.Count; p++)
        {
            if (ids[p] is null)
            {
                try
                {
                    WriteTopicId(dirs[p], id);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _logger.LogWarning("{Dir}: could not write its topic id ({Message}); it is {Id} until the next start", dirs[p], e.Message, id);
                }
            }
        }
        var topic = new Topic(name, id, [.. logs], name.StartsWith("__", StringComparison.Ordinal), _options.TopicDefaults);
        ReadConfigs(topic, dirs[0]);
        ApplyLogConfig(topic);
        return topic;

        void DropFrom(int first)
        {
            for (int p = first; p < logs.Count; p++)
            {
                logs[p].Dispose();
                RemoveDirectory(dirs[p]);
            }
            logs.RemoveRange(first, logs.Count - first);
            dirs.RemoveRange(first, dirs.Count - first);
            ids.RemoveRange(first, ids.Count - first);
        }
    }

    /// <summary>Renames first (atomic), so a crash or a failure while deleting files cannot bring the partition back.</summary>
    private void DeletePartitionDirectory(string dir)
    {
        string doomed = $"{dir}.{Guid.NewGuid():N}{DeletedSuffix}";
        try
        {
            Directory.Move(dir, doomed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError("{Dir}: could not be renamed for deletion ({Message}); it will be loaded again at the next start", dir, e.Message);
            return;
        }
        RemoveDirectory(doomed);
    }

    private void RemoveDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("{Dir}: not removed ({Message}); the next start tries again", dir, e.Message);
        }
    }

    private static void WriteTopicId(string dir, Guid id) => DurableFile.Replace(Path.Combine(dir, MetadataFile), ["version: 0", $"topic_id: {id}"]);

    private static Guid? ReadTopicId(string dir)
    {
        string path = Path.Combine(dir, MetadataFile);
        if (!File.Exists(path))
            return null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("topic_id:", StringComparison.Ordinal) && Guid.TryParse(line["topic_id:".Length..].Trim(), out var id))
                return id;
        }
        return null;
    }

    private static void WriteConfigs(string dir, IReadOnlyDictionary<string, string> configs) =>
        DurableFile.Replace(Path.Combine(dir, ConfigFile), configs.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>Null when written; otherwise why not, naming the file (nothing changed).</summary>
    private string? TryWriteConfigs(string dir, IReadOnlyDictionary<string, string> configs)
    {
        try
        {
            WriteConfigs(dir, configs);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string path = Path.Combine(dir, ConfigFile);
            _logger.LogError("{Path}: topic configs not written: {Message}", path, e.Message);
            return $"{path}: {e.Message}. The configs are unchanged.";
        }
    }

    private static void ReadConfigs(Topic topic, string dir)
    {
        string path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path))
            return;
        topic.WithConfigs(next =>
        {
            foreach (var line in File.ReadLines(path))
            {
                int eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && TopicConfigs.Known.ContainsKey(line[..eq]))
                    next[line[..eq]] = line[(eq + 1)..];
            }
        });
    }
}
