using System.Diagnostics;
using System.Globalization;
using System.Net;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Broker;
using Samsa.Client.Consumer;
using SamsaTopicPartition = Samsa.Client.TopicPartition;

// The perf tool: our consumer and Confluent.Kafka's reading the same topics from the same broker
// in the same run, librdkafka both at its defaults and tuned for throughput, each row several
// rounds. The broker runs in a child process (this executable with "broker"), so the CPU time
// measured here is the clients' alone; --bootstrap points the same run at any other broker.
//
//   dotnet run -c Release --project bench/Samsa.Perf -- consume [--records-100b N] [--records-1k N] [--rounds N] [--bootstrap HOST:PORT]
//   dotnet run -c Release --project bench/Samsa.Perf -- produce [--records N] [--rounds N] [--bootstrap HOST:PORT] [--no-half-peak]
//       [--sizes 100,1024] [--acks 1,all] [--codecs none,lz4] [--partitions 1,8]
//   dotnet run -c Release --project bench/Samsa.Perf -- rebalance [--rounds N] [--partitions N] [--members N] [--rate N]
//       [--settings defaults|tuned|both] [--protocols classic|consumer|both] [--steady-ms N] [--jitter-ms N] [--tail-ms N] [--deadline-s N]
//
// The child is "broker <port> <dir> [server.properties key=value ...]".
if (args.Length >= 3 && args[0] == "broker")
{
    var options = new BrokerOptions { Listen = new IPEndPoint(IPAddress.Loopback, int.Parse(args[1], CultureInfo.InvariantCulture)), DataDirectory = args[2] };
    foreach (string setting in args.Skip(3))
    {
        int eq = setting.IndexOf('=', StringComparison.Ordinal);
        options = Samsa.Broker.Configuration.BrokerConfig.Apply(options, setting[..eq], setting[(eq + 1)..], "command line");
    }
    await using var broker = await SamsaBroker.StartAsync(options);
    Console.WriteLine("ready");
    await Console.In.ReadLineAsync(); // runs until the parent closes our stdin
    return 0;
}

if (args.Length > 0 && args[0] == "produce")
    return await ProduceBenchmark.RunAsync(args);

if (args.Length > 0 && args[0] == "rebalance")
    return await RebalanceBenchmark.RunAsync(args);

return await ConsumeBenchmark.RunAsync(args);
