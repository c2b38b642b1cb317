using System.CommandLine;
using System.Globalization;
using Samsa.Client.Admin;

namespace Samsa.Cli.Commands;

/// <summary><c>samsa transactions list|describe|describe-producers|find-hanging|abort</c>, like kafka-transactions.sh.</summary>
internal static partial class TransactionsCommand
{
    public static Command Create()
    {
        var transactions = new Command("transactions", "List and describe transactional producers' transactions (KIP-664).");
        var bootstrap = Common.Bootstrap();
        var output = Common.Output();
        var verbose = Common.Verbose();
        var commandConfig = ClientProperties.CommandConfig();
        foreach (var o in new Option[] { bootstrap, output, verbose, commandConfig })
        {
            o.Recursive = true;
            transactions.Options.Add(o);
        }
        KafkaAdminClient Admin(ParseResult r) => new(ClientProperties.Admin(r, bootstrap, commandConfig));

        var state = new Option<string[]>("--state") { Description = "only these states (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort)" };
        var producer = new Option<long[]>("--producer-id") { Description = "only transactional ids holding these producer ids" };
        var longer = new Option<long?>("--duration-filter") { Description = "only transactions running longer than this many ms (ListTransactions v1)" };
        var list = new Command("list", "List transactional ids with their producer id and state.") { state, producer, longer };
        list.SetAction((r, ct) => Common.RunAsync(r, verbose, "transactions list", async () =>
        {
            await using var admin = Admin(r);
            var all = await admin.ListTransactionsAsync(r.GetValue(state), r.GetValue(producer),
                r.GetValue(longer) is { } ms ? TimeSpan.FromMilliseconds(ms) : null, ct);
            if (r.GetValue(output) == "json")
                Common.Json(all);
            else
                Common.Table(["TRANSACTIONAL ID", "PRODUCER ID", "STATE"], all.Select(t => (IReadOnlyList<string>)[t.TransactionalId, t.ProducerId.ToString(CultureInfo.InvariantCulture), t.State]));
            return 0;
        }));

        var id = new Argument<string>("transactional-id");
        var describe = new Command("describe", "Show a transactional id's state, producer id and epoch, timeout, start time and the partitions of its open transaction.") { id };
        describe.SetAction((r, ct) => Common.RunAsync(r, verbose, "transactions describe", async () =>
        {
            await using var admin = Admin(r);
            var t = await admin.DescribeTransactionAsync(r.GetValue(id)!, ct);
            if (r.GetValue(output) == "json")
            {
                Common.Json(t);
                return 0;
            }
            string start = t.StartTimeMs is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s).ToString("u", CultureInfo.InvariantCulture) : "-";
            Common.Table(["COORDINATOR", "TRANSACTIONAL ID", "PRODUCER ID", "EPOCH", "STATE", "TIMEOUT MS", "START", "PARTITIONS"], [[
                t.CoordinatorId.ToString(CultureInfo.InvariantCulture), t.TransactionalId, t.ProducerId.ToString(CultureInfo.InvariantCulture),
                t.ProducerEpoch.ToString(CultureInfo.InvariantCulture), t.State, t.TimeoutMs.ToString(CultureInfo.InvariantCulture), start,
                t.Partitions.Count == 0 ? "-" : string.Join(",", t.Partitions.Select(p => p.ToString())),
            ]]);
            return 0;
        }));

        transactions.Subcommands.Add(list);
        transactions.Subcommands.Add(describe);
        foreach (var command in HangingCommands(verbose, output, Admin))
            transactions.Subcommands.Add(command);
        return transactions;
    }
}
