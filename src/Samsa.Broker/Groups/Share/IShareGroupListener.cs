namespace Samsa.Broker.Groups.Share;

/// <summary>
/// What the share-partition side must hear from the group coordinator. Called under the shard's
/// lock, after the records of the change are written and applied, so an implementation must not
/// call back into the coordinator and must not wait on anything but its own short locks.
/// </summary>
internal interface IShareGroupListener
{
    /// <summary>
    /// A member left its share group (<paramref name="fenced"/> false: it said so, and may still
    /// close its share session with its last acknowledgements) or was fenced (its session timed
    /// out: it is presumed gone). Either way what it holds goes back to the others.
    /// </summary>
    void MemberLeft(string groupId, string memberId, bool fenced);

    /// <summary>An empty share group was deleted (DeleteGroups): its share-partition state goes with it.</summary>
    void GroupDeleted(string groupId);
}
