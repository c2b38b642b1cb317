using System.CommandLine;
using Samsa.Cli.Commands;

var root = new RootCommand("Samsa: a Kafka-compatible broker and client tools for .NET.");
root.Subcommands.Add(BrokerCommand.Create());
root.Subcommands.Add(TopicsCommand.Create());
root.Subcommands.Add(ProduceCommand.Create());
root.Subcommands.Add(ConsumeCommand.Create());
root.Subcommands.Add(GroupsCommand.Create());
root.Subcommands.Add(Samsa.Cli.Demo.DemoCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
