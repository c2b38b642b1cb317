using Microsoft.Extensions.Options;
using Samsa.Client.Consumer;

namespace Samsa.Extensions.Hosting.Internal;

/// <summary>
/// Runs the options records' own Validate at start-up (ValidateOnStart), so a bad setting stops the host
/// before any client connects, naming the key with its section (<c>Kafka:session.timeout.ms</c>).
/// </summary>
internal sealed class SettingsValidation<TSettings>(Func<TSettings, string> section, Action<TSettings> validate) : IValidateOptions<TSettings>
    where TSettings : class
{
    public ValidateOptionsResult Validate(string? name, TSettings options)
    {
        try
        {
            validate(options);
            return ValidateOptionsResult.Success;
        }
        catch (KafkaConfigException e)
        {
            string prefix = section(options);
            return ValidateOptionsResult.Fail(prefix.Length == 0 ? e.Message : $"{prefix}:{e.Key}: {e.Message}");
        }
    }
}
