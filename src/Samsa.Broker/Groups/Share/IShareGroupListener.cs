namespace Samsa.Broker.Groups.Share;

/// <summary>
/// What the share-partition side must hear from the group coordinator. Called under the shard's
/// lock, after the records of the change are written and applied, so an implementation must not
/// call back into the coordinator and must not wait on anything but its own short locks.
/// </summary>
internal interface IShareGroupListener
{
    /// <summary>A member left its share group or was fenced: what it holds goes back to the others.</summary>
    void MemberLeft(string groupId, string memberId);

    /// <summary>An empty share group was deleted (DeleteGroups): its share-partition state goes with it.</summary>
    void GroupDeleted(string groupId);
}
