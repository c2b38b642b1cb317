using System.CommandLine;
using System.Runtime.InteropServices;
using Samsa.Cli.Commands;

var root = new RootCommand("Samsa: a Kafka-compatible broker and client tools for .NET.");
root.Subcommands.Add(BrokerCommand.Create());
root.Subcommands.Add(TopicsCommand.Create());
root.Subcommands.Add(ProduceCommand.Create());
root.Subcommands.Add(ConsumeCommand.Create());
root.Subcommands.Add(GroupsCommand.Create());
root.Subcommands.Add(AclsCommand.Create());
root.Subcommands.Add(TransactionsCommand.Create());
root.Subcommands.Add(PerfCommand.Create());
root.Subcommands.Add(Samsa.Cli.Demo.DemoCommand.Create());

// Ctrl+C and SIGTERM cancel the command's token and let it finish cleanly (a consumer commits and
// leaves its group, the broker closes its logs) however long that takes; a second Ctrl+C ends the
// process at once. System.CommandLine's own handling would cut the clean-up off after 2 seconds.
using var stop = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    if (stop.IsCancellationRequested)
        return; // second signal: default handling ends the process
    context.Cancel = true;
    stop.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
return await root.Parse(TopicsCommand.FromKafkaStyle(args)).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token).ConfigureAwait(false);
