using Samsa.Broker.Network;
using Samsa.Broker.Security.Sasl;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Sasl;

namespace Samsa.Broker.Handlers;

// DescribeUserScramCredentials v0: every user (null or empty list) or the ones named, with their
// mechanisms and iterations; an unknown user is RESOURCE_NOT_FOUND, a user named twice
// DUPLICATE_RESOURCE, as Kafka's ScramImage answers. Salts and keys are never returned.
internal sealed class DescribeUserScramCredentialsHandler(ScramCredentialStore store) : IApiHandler
{
    public ApiKey Key => ApiKey.DescribeUserScramCredentials;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (DescribeUserScramCredentialsRequest)request;
        var users = store.Users();
        var response = new DescribeUserScramCredentialsResponse();
        IEnumerable<(string Name, bool Twice)> wanted = r.Users is { Count: > 0 } named
            ? named.GroupBy(u => u.Name, StringComparer.Ordinal).Select(g => (g.Key, g.Count() > 1))
            : users.Keys.Select(u => (u, false));
        foreach (var (name, twice) in wanted)
        {
            var result = new DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult { User = name };
            if (twice)
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.DuplicateResource, "Cannot describe SCRAM credentials for the same user twice in a single request: " + name);
            else if (!users.TryGetValue(name, out var credentials))
                (result.ErrorCode, result.ErrorMessage) = (ErrorCode.ResourceNotFound, "Attempt to describe a user credential that does not exist: " + name);
            else
                result.CredentialInfos = credentials.Select(c => new DescribeUserScramCredentialsResponse.CredentialInfo { Mechanism = c.Algorithm.Type, Iterations = c.Iterations }).ToList();
            response.Results.Add(result);
        }
        return ValueTask.FromResult<IResponse?>(response);
    }
}

// AlterUserScramCredentials v0: deletions and upsertions (the client salted the password; the
// broker keeps StoredKey and ServerKey derived from it), validated as Kafka's ScramControlManager
// does: empty user UNACCEPTABLE_CREDENTIAL, unknown mechanism UNSUPPORTED_SASL_MECHANISM,
// iterations outside 4096-16384 UNACCEPTABLE_CREDENTIAL, a user twice DUPLICATE_RESOURCE,
// deleting what does not exist RESOURCE_NOT_FOUND. The valid changes are written together, then answered.
internal sealed class AlterUserScramCredentialsHandler(ScramCredentialStore store) : IApiHandler
{
    public ApiKey Key => ApiKey.AlterUserScramCredentials;

    public ValueTask<IResponse?> HandleAsync(RequestContext context, IRequest request, CancellationToken cancellationToken)
    {
        var r = (AlterUserScramCredentialsRequest)request;
        var errors = new Dictionary<string, (ErrorCode, string)>(StringComparer.Ordinal);
        var deletions = new Dictionary<string, ScramAlgorithm>(StringComparer.Ordinal);
        var upsertions = new Dictionary<string, (ScramAlgorithm, ScramCredential)>(StringComparer.Ordinal);
        const string Twice = "A user credential cannot be altered twice in the same request";
        foreach (var d in r.Deletions)
        {
            if (errors.ContainsKey(d.Name))
                continue;
            if (deletions.Remove(d.Name))
                errors[d.Name] = (ErrorCode.DuplicateResource, Twice);
            else if (Validate(d.Name, d.Mechanism, out var algorithm) is { } error)
                errors[d.Name] = error;
            else if (store.Get(d.Name, algorithm!) is null)
                errors[d.Name] = (ErrorCode.ResourceNotFound, "Attempt to delete a user credential that does not exist");
            else
                deletions[d.Name] = algorithm!;
        }
        foreach (var u in r.Upsertions)
        {
            if (errors.ContainsKey(u.Name))
                continue;
            if (deletions.Remove(u.Name) || upsertions.Remove(u.Name))
                errors[u.Name] = (ErrorCode.DuplicateResource, Twice);
            else if (Validate(u.Name, u.Mechanism, out var algorithm) is { } error)
                errors[u.Name] = error;
            else if (u.Iterations < ScramAlgorithm.MinIterations)
                errors[u.Name] = (ErrorCode.UnacceptableCredential, "Too few iterations");
            else if (u.Iterations > ScramAlgorithm.MaxIterations)
                errors[u.Name] = (ErrorCode.UnacceptableCredential, "Too many iterations");
            else
                upsertions[u.Name] = (algorithm!, ScramCredential.FromSaltedPassword(algorithm!, u.Salt, u.SaltedPassword, u.Iterations));
        }
        var changes = deletions.Select(d => (d.Key, d.Value, (ScramCredential?)null))
            .Concat(upsertions.Select(u => (u.Key, u.Value.Item1, (ScramCredential?)u.Value.Item2))).ToList();
        var response = new AlterUserScramCredentialsResponse();
        try
        {
            store.Apply(changes);
        }
        catch (IOException e)
        {
            foreach (var (user, _, _) in changes)
                errors[user] = (ErrorCode.KafkaStorageError, $"Could not write the SCRAM credentials: {e.Message}");
            changes.Clear();
        }
        foreach (var (user, _, _) in changes)
            response.Results.Add(new AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult { User = user });
        foreach (var (user, (code, message)) in errors)
            response.Results.Add(new AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult { User = user, ErrorCode = code, ErrorMessage = message });
        return ValueTask.FromResult<IResponse?>(response);
    }

    private static (ErrorCode, string)? Validate(string user, sbyte mechanism, out ScramAlgorithm? algorithm)
    {
        algorithm = ScramAlgorithm.FromType(mechanism);
        if (user.Length == 0)
            return (ErrorCode.UnacceptableCredential, "Username must not be empty");
        if (algorithm is null)
            return (ErrorCode.UnsupportedSaslMechanism, "Unknown SCRAM mechanism");
        return null;
    }
}
