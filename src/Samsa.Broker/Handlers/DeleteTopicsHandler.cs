using Samsa.Broker.Network;
using Samsa.Broker.Security.Authorization;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

// DeleteTopics v0-6 (names up to v5, names or ids from v6). Deletes the partition directories at once.
internal sealed class DeleteTopicsHandler(TopicManager topics) : IApiHandler
{
    public ApiKey Key => ApiKey.DeleteTopics;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DeleteTopicsRequest)request;
        var response = new DeleteTopicsResponse();
        var targets = context.ApiVersion >= 6
            ? r.Topics.Select(t => (t.Name, t.TopicId))
            : r.TopicNames.Select(n => ((string?)n, Guid.Empty));
        foreach (var (name, id) in targets)
        {
            string? resolved = name ?? topics.FindById(id)?.Name;
            var result = new DeleteTopicsResponse.DeletableTopicResult { Name = resolved ?? name, TopicId = id };
            if (resolved is not null && !context.Authorize(AclOperation.Delete, AclResourceType.Topic, resolved))
                result.ErrorCode = ErrorCode.TopicAuthorizationFailed;
            else if (resolved is null)
                result.ErrorCode = name is null ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition;
            else if (resolved is TopicManager.ConsumerOffsetsTopic or Share.ShareStateLog.TopicName or Transactions.TransactionLog.TopicName)
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.InvalidTopicException, "Internal topics cannot be deleted.");
            else
                result.ErrorCode = topics.Delete(resolved);
            response.Responses.Add(result);
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}
