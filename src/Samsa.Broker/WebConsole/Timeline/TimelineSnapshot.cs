namespace Samsa.Broker.WebConsole.Timeline;

/// <summary>
/// One rebalance: from its start (classic: the group entered PreparingRebalance; consumer and
/// others: the group epoch went up) until the group was Stable again (null while it is not, or
/// when a newer rebalance superseded it first). <see cref="Epoch"/> is the generation or epoch it
/// produced.
/// </summary>
internal sealed record RebalanceBand(int Epoch, DateTimeOffset Started, DateTimeOffset? Settled, string Protocol);

/// <summary>
/// A member holding a partition from <see cref="Assigned"/> until <see cref="Ended"/> (null: still
/// holds it). <see cref="FirstFetch"/> is when the member's first Fetch for it arrived after the
/// assignment (null: none seen yet, or none matched; the assignment time stands in for it).
/// </summary>
internal sealed record Tenure(string MemberId, string ClientId, DateTimeOffset Assigned, DateTimeOffset? FirstFetch, DateTimeOffset? Ended);

/// <summary>
/// A stretch where nobody consumed a partition: from the last holder giving it up (<see cref="From"/>)
/// to the next one being assigned it (<see cref="Assigned"/>) and fetching it (<see cref="Fetched"/>).
/// Assigned null: the gap is still open. <see cref="FromMember"/> and <see cref="ToMember"/> name the
/// holders either side (ToMember null while open).
/// </summary>
internal sealed record Gap(PartitionKey Partition, DateTimeOffset From, DateTimeOffset? Assigned, DateTimeOffset? Fetched, string FromMember, string? ToMember);

internal sealed record PartitionRow(PartitionKey Partition, IReadOnlyList<Tenure> Tenures, IReadOnlyList<Gap> Gaps);

/// <summary>What the timeline of one group shows, copied out of the recorder: safe to read on any thread.</summary>
internal sealed record TimelineSnapshot(
    string GroupId,
    DateTimeOffset Start,
    DateTimeOffset Now,
    IReadOnlyList<RebalanceBand> Bands,
    IReadOnlyList<PartitionRow> Rows,
    IReadOnlyDictionary<string, int> Colours);
