using System.CommandLine;
using Microsoft.Extensions.Logging;
using Samsa.Broker;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security;
using Samsa.Storage;

namespace Samsa.Cli.Commands;

/// <summary><c>samsa broker</c>: runs the broker until Ctrl+C or SIGTERM, then shuts down cleanly.</summary>
internal static class BrokerCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "host:port of a PLAINTEXT listener (several listeners, TLS, SASL: listeners= in --config, docs/security.md)", DefaultValueFactory = _ => "127.0.0.1:9092" };
        var dataDir = new Option<string>("--data-dir") { Description = "where partition logs live", DefaultValueFactory = _ => "./samsa-data" };
        var advertised = new Option<string?>("--advertised-listener") { Description = "host:port clients should connect to (default: the listen address)" };
        var config = new Option<string?>("--config") { Description = "a Kafka-style server.properties file" };
        var overrides = new Option<string[]>("--override") { Description = "key=value, repeatable; wins over --config", AllowMultipleArgumentsPerToken = false };
        var ui = new Option<string?>("--ui") { Description = "serve the web console and /metrics on host:port (a bare port binds 127.0.0.1); ui.listeners" };
        var verbose = new Option<bool>("--verbose") { Description = "debug logging and stack traces" };
        var command = new Command("broker", "Run a single-node Kafka-compatible broker.") { listen, dataDir, advertised, config, overrides, ui, verbose };
        command.SetAction(async (result, cancellationToken) =>
        {
            bool isVerbose = result.GetValue(verbose);
            using var loggerFactory = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => o.SingleLine = true)
                .SetMinimumLevel(isVerbose ? LogLevel.Debug : LogLevel.Information));
            try
            {
                var options = new BrokerOptions();
                // Keys not acted on are warned about and ignored, as Kafka does (a stock server.properties starts).
                var configLog = loggerFactory.CreateLogger("Samsa.Config");
                void Warn(string message) => configLog.LogWarning("{Message}", message);
                if (result.GetValue(config) is { } file)
                    options = BrokerConfig.LoadFile(options, file, Warn);
                if (result.GetResult(listen) is { Implicit: false } || result.GetValue(config) is null)
                    options = BrokerConfig.Apply(options, "listeners", result.GetValue(listen)!);
                if (result.GetResult(dataDir) is { Implicit: false } || result.GetValue(config) is null)
                    options = BrokerConfig.Apply(options, "log.dirs", result.GetValue(dataDir)!);
                if (result.GetValue(advertised) is { } adv)
                    options = BrokerConfig.Apply(options, "advertised.listeners", adv);
                if (result.GetValue(ui) is { } uiAddress)
                    options = BrokerConfig.Apply(options, "ui.listeners", uiAddress);
                foreach (var o in result.GetValue(overrides) ?? [])
                {
                    int eq = o.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                        throw new BrokerConfigException(o, $"--override expects key=value, got '{o}'.");
                    options = BrokerConfig.Apply(options, o[..eq], o[(eq + 1)..], "--override", Warn);
                }

                var broker = await SamsaBroker.StartAsync(options, loggerFactory, cancellationToken).ConfigureAwait(false);
                await using var _ = broker.ConfigureAwait(false);
                foreach (var l in broker.Listeners)
                    Console.WriteLine($"samsa broker listening on port {l.Port} ({l.Name}, {l.Protocol.KafkaName()}; bootstrap.servers={l.BootstrapServers})");
                Console.WriteLine($"data in {Path.GetFullPath(options.DataDirectory)}. Ctrl+C to stop.");
                if (broker.UiAddress is { } console)
                    Console.WriteLine($"samsa console on {console}");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Console.WriteLine("samsa broker shutting down...");
                }
                return 0;
            }
            catch (Exception e) when (!isVerbose && e is BrokerConfigException or StorageException or InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"samsa broker: {e.Message}").ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }
}
